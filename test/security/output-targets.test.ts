// What is at an --output / schema -o path stays what it is: a device, a FIFO,
// a symlink (to a file or to the process's stdout) is written as `>` would
// write it, never replaced by a regular file; a replaced file keeps its mode;
// a device that refuses the bytes (/dev/full) and a path that cannot exist
// (under /proc) exit 2 at once. Devices and FIFOs are made in a temp folder
// (mknod needs root; those cases are skipped otherwise) — never the real /dev.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { httpServer } from "../helpers/net.js";
import { runCli } from "../helpers/cli.js";

const isRoot = process.getuid?.() === 0;

let app: Awaited<ReturnType<typeof httpServer>>;
let root: string;
beforeAll(async () => {
  app = await httpServer((_request, response) => response.end("ok"));
  root = mkdtempSync(path.join(tmpdir(), "infra-check-targets-"));
});
afterAll(async () => {
  await app.stop();
  rmSync(root, { recursive: true, force: true });
});

const check = () => ["http", app.url("/health")];

describe("--output over what is already there", () => {
  it("a regular file is replaced and keeps its mode (0600 stays 0600)", async () => {
    const file = path.join(root, "private.json");
    writeFileSync(file, "old");
    chmodSync(file, 0o600);
    const result = await runCli([...check(), "-o", `json=${file}`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).ok).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("a new file gets 0644", async () => {
    const file = path.join(root, "new.json");
    expect((await runCli([...check(), "-o", `json=${file}`])).code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it("a symlink stays a symlink; the file it points at gets the report", async () => {
    const real = path.join(root, "real.xml");
    const link = path.join(root, "link.xml");
    writeFileSync(real, "old");
    symlinkSync(real, link);
    expect((await runCli([...check(), "-o", `junit=${link}`])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toContain("<testsuites");
  });

  it("a symlink to the process's stdout (what /dev/stdout is) sends the report to stdout", async () => {
    const link = path.join(root, "stdout");
    symlinkSync("/proc/self/fd/1", link);
    const result = await runCli([...check(), "-f", "json", "-o", `junit=${link}`]);
    expect(result.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(result.stdout).toContain("<testsuites");
    expect(result.stdout).toContain('"schemaVersion"');
  });

  it("a FIFO with a reader gets the report and is still a FIFO", async () => {
    const fifo = path.join(root, "report.fifo");
    execFileSync("mkfifo", [fifo]);
    const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "ignore"] });
    let read = "";
    reader.stdout.on("data", (chunk) => (read += chunk));
    const closed = new Promise((resolve) => reader.on("close", resolve));
    // The writer opens without blocking, so the reader must be in its open() first: cat waits there for a writer.
    const result = await runCliWhen(() => waitsForWriter(reader.pid!, fifo), [...check(), "-o", `json=${fifo}`]);
    await closed;
    expect(result.code).toBe(0);
    expect(JSON.parse(read).ok).toBe(true);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it("a FIFO nobody reads is exit 2 at once, not a process waiting forever", async () => {
    const fifo = path.join(root, "nobody.fifo");
    execFileSync("mkfifo", [fifo]);
    const result = await runCli([...check(), "-o", `json=${fifo}`], { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/nothing is reading it.*ENXIO/);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it.runIf(isRoot)("a null device stays a device", async () => {
    const device = path.join(root, "null");
    execFileSync("mknod", [device, "c", "1", "3"]);
    expect((await runCli([...check(), "-o", `json=${device}`])).code).toBe(0);
    expect(statSync(device).isCharacterDevice()).toBe(true);
  });

  it.runIf(isRoot)("a full device (/dev/full) is exit 2: no space left", async () => {
    const device = path.join(root, "full");
    execFileSync("mknod", [device, "c", "1", "7"]);
    const result = await runCli([...check(), "-o", `json=${device}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--output json=.*full: cannot write .* \(no space left on device, ENOSPC\)/);
    expect(statSync(device).isCharacterDevice()).toBe(true);
  });

  it("a path under /proc is exit 2 at once (a recursive mkdir there never returns)", async () => {
    const result = await runCli([...check(), "-o", "json=/proc/infra-check-none/report.json"], { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--output json=/proc/infra-check-none/report.json: cannot write");
    expect(result.elapsedMs).toBeLessThan(8_000);
  });
});

describe("schema -o", () => {
  it("over a symlink writes the target and keeps the link; over a mode-0600 file keeps the mode", async () => {
    const real = path.join(root, "schema.json");
    const link = path.join(root, "schema-link.json");
    writeFileSync(real, "{}");
    chmodSync(real, 0o600);
    symlinkSync(real, link);
    expect((await runCli(["schema", "-o", link])).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, "utf8")).$schema).toBeDefined();
    expect(statSync(real).mode & 0o777).toBe(0o600);
  });

  it("under /proc is exit 2", async () => {
    const result = await runCli(["schema", "-o", "/proc/infra-check-none/schema.json"], { timeoutMs: 10_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot write /proc/infra-check-none/schema.json");
  });
});

/** Run the CLI once `ready()` holds. */
async function runCliWhen(ready: () => boolean, args: string[]) {
  while (!ready()) await new Promise((resolve) => setImmediate(resolve));
  return runCli(args);
}

function waitsForWriter(pid: number, file: string): boolean {
  try {
    if (readFileSync(`/proc/${pid}/wchan`, "utf8") === "wait_for_partner") return true;
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
