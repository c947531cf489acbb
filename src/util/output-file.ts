// Writing a file the user named (--output, schema -o, --history): as a shell's
// `>` would, except that a regular file is replaced atomically (temp file in
// the same folder + rename), so a collector or an artifact upload never reads
// half a report. Only a regular file or a missing path is ever renamed over:
// `/dev/null`, `/dev/stdout`, a FIFO or a symlink keep being what they are
// (a symlink's target file is the one replaced). A replaced file keeps its mode
// (a 0600 report stays 0600) and, as root, its owner.
import { constants, open as openDescriptor } from "node:fs";
import { chmod, chown, lstat, mkdir, open, readlink, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import type { Stats } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";

/** How long a write to a device or a FIFO may take: nothing that is not a file may hold the process past its deadline. */
export const SPECIAL_FILE_WRITE_MS = 2_000;

/**
 * Create `dir` and its missing parents one by one. `mkdir({ recursive: true })`
 * never returns for a path under /proc (it retries the ENOENT procfs answers);
 * creating one level at a time fails there at once.
 */
export async function ensureFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    const found = await stat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${current} is not a folder`), { code: "ENOTDIR", path: current });
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing) {
    await mkdir(folder).catch(async (error: NodeJS.ErrnoException) => {
      // Another writer may have created it meanwhile.
      if (error.code === "EEXIST" && (await stat(folder)).isDirectory()) return;
      throw error;
    });
  }
}

/** What is at `file` now, following a symlink; undefined when nothing (or a dangling link). */
async function targetOf(file: string): Promise<{ stats: Stats; real: string } | undefined> {
  const link = await lstat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!link) return undefined;
  if (!link.isSymbolicLink()) return { stats: link, real: file };
  const stats = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!stats) return undefined;
  return { stats, real: stats.isFile() ? await realpath(file) : file };
}

const DESCRIPTOR_PATH = /^\/(?:proc\/self|dev)\/fd\/(\d+)$/;
const STANDARD_STREAMS: Record<string, number> = { "/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2 };

/**
 * The descriptor a path stands for (`/dev/stdout`, `/dev/fd/2`, a symlink to
 * `/proc/self/fd/1`), following links a few hops: a shell's `>` to such a
 * path writes to that descriptor, whatever it is (file, pipe, socket, terminal).
 */
async function descriptorOf(file: string): Promise<number | undefined> {
  let current = path.resolve(file);
  for (let hop = 0; hop < 8; hop += 1) {
    const standard = STANDARD_STREAMS[current];
    if (standard !== undefined) return standard;
    const match = DESCRIPTOR_PATH.exec(current);
    if (match) return Number(match[1]);
    const link = await lstat(current).catch(() => undefined);
    if (!link?.isSymbolicLink()) return undefined;
    current = path.resolve(path.dirname(current), await readlink(current));
  }
  return undefined;
}

export interface WriteOutputOptions {
  timeoutMs?: number;
  /** Writers for this process's own descriptors (1: its stdout, 2: its stderr), so a report sent to /dev/stdout joins the stream in order. */
  descriptors?: Record<number, (text: string) => void>;
}

/** Write `text` to `file` as described above. Errors are Node's (with `code`), for the caller to word. */
export async function writeOutputFile(file: string, text: string, options: WriteOutputOptions = {}): Promise<void> {
  const descriptor = await descriptorOf(file);
  if (descriptor !== undefined) {
    const writer = options.descriptors?.[descriptor];
    if (writer) return writer(text);
  }
  const target = await targetOf(file);
  if (!target) return replaceAtomically(file, text, undefined);
  const { stats, real } = target;
  if (stats.isDirectory()) throw Object.assign(new Error("it is a folder"), { code: "EISDIR" });
  // Another descriptor of this process that is a file: appended to, as the stream it is (never truncated or replaced).
  if (descriptor !== undefined && stats.isFile()) return appendInPlace(file, text);
  // A file with other hard links is written in place, as `>` does: a rename would leave the other names on the old content.
  if (stats.isFile() && stats.nlink <= 1) return replaceAtomically(real, text, stats);
  const timeoutMs = options.timeoutMs ?? SPECIAL_FILE_WRITE_MS;
  if (stats.isFIFO()) return writeToFifo(file, text, timeoutMs);
  return writeInPlace(file, text, timeoutMs);
}

async function replaceAtomically(file: string, text: string, existing: Stats | undefined): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const mode = existing ? existing.mode & 0o7777 : 0o644;
    await writeFile(temp, text, { mode });
    if (existing) {
      // writeFile's mode passes through the umask; the existing file's mode is what it should keep.
      await chmod(temp, mode);
      if (process.getuid?.() === 0) await chown(temp, existing.uid, existing.gid).catch(() => undefined);
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

function timedOut(file: string, timeoutMs: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`nothing took the data within ${timeoutMs} ms`), { code: "ETIMEDOUT", path: file });
}

async function withTimeout<T>(work: Promise<T>, file: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timedOut(file, timeoutMs)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A device (/dev/null, /dev/full, a terminal): opened and written as `>` does. */
async function writeInPlace(file: string, text: string, timeoutMs: number): Promise<void> {
  await withTimeout(
    (async () => {
      const handle = await open(file, "w");
      try {
        await handle.writeFile(text, "utf8");
      } finally {
        await handle.close();
      }
    })(),
    file,
    timeoutMs,
  );
}

async function appendInPlace(file: string, text: string): Promise<void> {
  const handle = await open(file, "a");
  try {
    await handle.writeFile(text, "utf8");
  } finally {
    await handle.close();
  }
}

/**
 * A FIFO: opened without blocking (no reader → ENXIO at once instead of a
 * process that waits forever for one), then written through a socket, which
 * handles a pipe's partial writes.
 */
async function writeToFifo(file: string, text: string, timeoutMs: number): Promise<void> {
  // A plain descriptor, not a FileHandle: the socket closes it, and a FileHandle would try again when collected.
  const fd = await promisify(openDescriptor)(file, constants.O_WRONLY | constants.O_NONBLOCK);
  const socket = new net.Socket({ fd, readable: false, writable: true });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.end(text, "utf8", () => resolve());
      }),
      file,
      timeoutMs,
    );
  } finally {
    // The socket owns the descriptor now: destroying it closes it.
    socket.destroy();
  }
}

/** A file-system error in words, with its code: "permission denied, EACCES". */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
    EISDIR: "it is a folder",
    ENOTDIR: "a part of the path is a file, not a folder",
    EEXIST: "a part of the path is a file, not a folder",
    ENOENT: "no such folder, and it cannot be created there",
    ENXIO: "nothing is reading it: a FIFO needs a reader before infra-check starts",
    ETIMEDOUT: "nothing took the data in time",
  };
  return code && reasons[code] ? `${reasons[code]}, ${code}` : String((error as Error)?.message ?? error);
}
