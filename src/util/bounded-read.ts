// Reading a file the user named (a config, a saved report) without trusting
// its size or its bytes: at most `maxBytes` are ever read (`-c /dev/zero`
// ends at once, as does a FIFO that never stops), and the text must be UTF-8
// (a replacement character would silently change a password or a host).
import { open } from "node:fs/promises";

export class FileTooLarge extends Error {
  readonly code = "EFBIG";
  constructor(readonly maxBytes: number) {
    super(`larger than ${formatBytes(maxBytes)}`);
  }
}

export class NotUtf8 extends Error {
  readonly code = "EILSEQ";
  constructor(
    readonly byteOffset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`not UTF-8: invalid byte at offset ${byteOffset} (line ${line}, column ${column})`);
  }
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

/** The file's text; FileTooLarge past `maxBytes`, NotUtf8 at the first invalid byte, Node's errors (ENOENT…) as they are. */
export async function readBoundedText(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, "r");
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLarge(maxBytes);
    }
  } finally {
    await handle.close();
  }
  return decodeUtf8(Buffer.concat(chunks, total));
}

/** UTF-8 to text, or NotUtf8 naming where the first invalid sequence starts. */
export function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = firstInvalidByte(bytes);
    const before = bytes.subarray(0, offset).toString("utf8");
    const lines = before.split("\n");
    throw new NotUtf8(offset, lines.length, lines[lines.length - 1].length + 1);
  }
}

/** Offset of the first byte that does not start (or continue) a well-formed UTF-8 sequence. */
function firstInvalidByte(bytes: Buffer): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0 || index + length > bytes.length) return index;
    // The second byte's range excludes overlong forms and surrogates, as the decoder does.
    const second = bytes[index + 1];
    if (length >= 2) {
      const [low, high] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
      if (second < low || second > high) return index;
    }
    for (let next = 2; next < length; next += 1) if ((bytes[index + next] & 0xc0) !== 0x80) return index;
    index += length;
  }
  return bytes.length;
}
