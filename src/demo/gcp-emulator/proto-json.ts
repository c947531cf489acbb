// proto3-json-serializer drops unknown fields and turns bad values into
// defaults without a word; a fixture typo must fail loudly instead.
export interface ProtoType {
  fields: Record<string, ProtoField>;
  fullName: string;
  toObject(message: unknown, options: object): Record<string, unknown>;
}
interface ProtoField {
  name: string;
  type: string;
  repeated: boolean;
  map: boolean;
  resolvedType: (ProtoType & { values?: undefined }) | { values: Record<string, number>; fullName: string } | null;
  resolve(): unknown;
}

const NUMERIC = /^-?\d+$/;
const INTEGER_TYPES = new Set(["int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"]);

export function validateProto3Json(type: ProtoType, json: unknown, path: string): void {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error(`emulator fixture ${path}: expected an object`);
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) throw new Error(`emulator fixture ${path}: unknown field "${key}" for ${type.fullName.replace(/^\./, "")} (fields: ${Object.keys(type.fields).join(", ")})`);
    if (value === null) continue;
    field.resolve();
    const at = `${path}.${key}`;
    if (field.map) {
      if (typeof value !== "object" || Array.isArray(value)) throw new Error(`emulator fixture ${at}: expected a map`);
      for (const [entryKey, entry] of Object.entries(value)) validateValue(field, entry, `${at}.${entryKey}`);
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`emulator fixture ${at}: expected a list`);
      value.forEach((entry, index) => validateValue(field, entry, `${at}.${index}`));
    } else {
      validateValue(field, value, at);
    }
  }
}

function validateValue(field: ProtoField, value: unknown, path: string): void {
  const resolved = field.resolvedType;
  if (resolved && "values" in resolved && resolved.values) {
    if (typeof value !== "string" || !(value in resolved.values)) {
      throw new Error(`emulator fixture ${path}: ${JSON.stringify(value)} is not one of ${Object.keys(resolved.values).join(", ")}`);
    }
    return;
  }
  if (resolved) {
    const name = (resolved as ProtoType).fullName.replace(/^\./, "");
    if (name === "google.protobuf.Timestamp") {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) throw new Error(`emulator fixture ${path}: expected an RFC 3339 timestamp`);
      return;
    }
    // Wrapper types (Int64Value, BoolValue, …) are their bare value in proto3 JSON.
    if (/^google\.protobuf\.(Bool|String|Bytes|Double|Float|U?Int(32|64))Value$/.test(name)) {
      validateValue((resolved as ProtoType).fields.value, value, path);
      return;
    }
    if (name === "google.protobuf.Duration") {
      if (typeof value !== "string" || !/^-?\d+(\.\d+)?s$/.test(value)) throw new Error(`emulator fixture ${path}: expected a duration like "300s"`);
      return;
    }
    validateProto3Json(resolved as ProtoType, value, path);
    return;
  }
  const ok =
    field.type === "string" ? typeof value === "string"
    : field.type === "bool" ? typeof value === "boolean"
    : INTEGER_TYPES.has(field.type) ? (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && NUMERIC.test(value))
    : field.type === "double" || field.type === "float" ? typeof value === "number"
    : field.type === "bytes" ? typeof value === "string"
    : true;
  if (!ok) throw new Error(`emulator fixture ${path}: ${JSON.stringify(value)} is not a valid ${field.type}`);
}
