// The diagnosis catalogue: every way a check can fail, as an entry with an id
// grouped by layer (`dns.*`, `tcp.*`, `tls.*`, `timeout.*`, `grpc.*`,
// `gcp.*`, and each kind's own: `redis.*`, `pg.*`, `ws.*`, …), its failure
// class, a message template and a hint that says what to do next. Each text
// exists once: a probe or an error rule names the entry and hands it the
// facts it observed; it never writes a diagnosis of its own.
//
// The generic layers' entries live in ./codes.ts (and src/gcp/codes.ts); a
// kind's own entries live in its folder (src/probes/<kind>/diagnose.ts), so a
// new kind adds codes without touching shared files. Together they are the
// catalogue: docs list it (test/docs/catalogue.test.ts keeps them in step).
import type { ClassifiedError, FailureClass } from "./vocabulary.js";

/** What an entry's templates read: observed facts (endpoint, user, budget, …). */
export type Facts = Record<string, unknown>;

type Template<F> = string | ((facts: F) => string);

export interface EntrySpec<F = Facts> {
  class: FailureClass;
  /** What happened, in the words of the layer that failed. */
  message: Template<F>;
  /** What to do next. */
  hint: Template<F>;
  /** The low-level evidence reported as `code` (errno, SQLSTATE, close code…); default: none. */
  code?: Template<F> | ((facts: F) => string | undefined);
  /** The phase the failure belongs to when it is not the one in progress (e.g. "preflight"). */
  phase?: string;
}

export interface CatalogueEntry<F = Facts> extends EntrySpec<F> {
  /** `layer.NAME`, e.g. `redis.NOAUTH`. */
  readonly id: string;
}

export type Catalogue = Readonly<Record<string, CatalogueEntry<any>>>;

/** A layer's entries, each named `${layer}.${key}`. */
export function defineCatalogue<const T extends Record<string, EntrySpec<any>>>(layer: string, specs: T): { readonly [K in keyof T]: T[K] & { readonly id: string } } {
  const entries: Record<string, CatalogueEntry<any>> = {};
  for (const [key, spec] of Object.entries(specs)) entries[key] = Object.freeze({ ...spec, id: `${layer}.${key}` });
  return Object.freeze(entries) as never;
}

type FactsOf<E> = E extends EntrySpec<infer F> ? F : Facts;

function render<F>(template: Template<F> | ((facts: F) => string | undefined) | undefined, facts: F): string | undefined {
  return typeof template === "function" ? template(facts) : template;
}

/** The diagnosis an entry gives for these facts. */
export function diagnosisOf<E extends CatalogueEntry<any>>(entry: E, facts: FactsOf<E>, options: { phase?: string } = {}): ClassifiedError {
  const code = render(entry.code, facts);
  const phase = options.phase ?? entry.phase;
  return {
    class: entry.class,
    message: render(entry.message, facts)!,
    hint: render(entry.hint, facts)!,
    diagnosis: entry.id,
    ...(code ? { code } : {}),
    ...(phase ? { phase } : {}),
  };
}

/**
 * A failure a probe has already understood: thrown with the catalogue entry
 * and the facts, turned into a result by the runner like any other error.
 */
export class Diagnosed extends Error {
  readonly diagnosis: ClassifiedError;
  constructor(diagnosis: ClassifiedError, options: { cause?: unknown } = {}) {
    // An expected failure, already worded: no stack to capture (a load test of thousands of connections builds one per connection).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(diagnosis.message, options);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.name = "Diagnosed";
    this.diagnosis = diagnosis;
  }
}

/** `throw failure(REDIS.NOT_PONG, { reply })`. */
export function failure<E extends CatalogueEntry<any>>(entry: E, facts: FactsOf<E>, options: { phase?: string; cause?: unknown } = {}): Diagnosed {
  return new Diagnosed(diagnosisOf(entry, facts, options), { cause: options.cause });
}

/** Every entry of some catalogues, by id (duplicates are a bug: the test of the catalogue fails on them). */
export function entriesOf(...catalogues: Catalogue[]): CatalogueEntry[] {
  return catalogues.flatMap((catalogue) => Object.values(catalogue));
}

/** What a failed assertion says when a catalogue entry explains it (a resource's state in its own words). */
export interface Explanation {
  message: string;
  hint: string;
  diagnosis: string;
  code?: string;
}

export function explanationOf<E extends CatalogueEntry<any>>(entry: E, facts: FactsOf<E>): Explanation {
  const { message, hint, diagnosis, code } = diagnosisOf(entry, facts);
  return { message, hint: hint!, diagnosis: diagnosis!, ...(code ? { code } : {}) };
}
