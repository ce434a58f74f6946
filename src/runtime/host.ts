/**
 * Facts about, and operations on, the process this code runs in, the same on every runtime.
 * Child start-up goes through this module, so on Deno it imports no `node:` module: there each
 * one costs milliseconds of Node-compatibility start-up (node:fs alone ~40 ms) before a child
 * can say it runs. Deno's own APIs serve instead.
 * @module
 */
import { readGlobal, writeGlobal } from "../core/process_wide.ts";
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";

/**
 * A Node built-in module, loaded on first use (Node 20.16+ and Bun have
 * `process.getBuiltinModule`): a child's start-up imports none.
 */
export function builtin<T>(name: string): T {
  return globalThis.process.getBuiltinModule(name) as T;
}

/** Node's `fs` (not on Deno, where Deno's own APIs serve). */
const nodeFs = () => (runtime === "deno" ? null : builtin<typeof import("node:fs")>("node:fs"));

/** This OS process's id. */
export const pid: number = runtime === "deno" ? deno().pid : globalThis.process.pid;

/** The parent OS process's id, read afresh (it changes when the parent dies). */
export function ppid(): number {
  return runtime === "deno" ? deno().ppid : globalThis.process.ppid;
}

/** Records the parent pid a `"process"` child must outlive no longer than. */
export function watchParentPid(pid: number): void {
  writeGlobal("watchedParent", pid);
}

/** Whether this process child's parent has ended (it was re-parented). */
export function parentGone(): boolean {
  const watched = readGlobal<number>("watchedParent");
  return watched !== undefined && ppid() !== watched;
}

/** Ends this OS process (or, inside a worker thread, only that thread) with `code`. */
export function exitNow(code: number): never {
  if (runtime === "deno") deno().exit(code);
  return globalThis.process.exit(code);
}

/** Lets a timer not keep this process alive. */
export function unrefTimer(timer: unknown): void {
  if (runtime === "deno") deno().unrefTimer(timer as number);
  else (timer as { unref(): void }).unref();
}

/** Writes all of `bytes` to stdout before returning (Deno's `"process"` channel). */
export function writeStdoutSync(bytes: Uint8Array): void {
  const stdout = deno().stdout;
  for (let off = 0; off < bytes.length;) off += stdout.writeSync(bytes.subarray(off));
}

/** Strips tsx's `?tsx-namespace=` query (and any other query) from a module URL. */
export function cleanModuleUrl(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** Whether source files of this library are TypeScript (a checkout) or built JavaScript. */
export function libraryExtension(moduleUrl: string): ".ts" | ".js" {
  return cleanModuleUrl(moduleUrl).endsWith(".ts") ? ".ts" : ".js";
}

/** The current working directory. */
export function cwd(): string {
  return runtime === "deno" ? deno().cwd() : globalThis.process.cwd();
}

/**
 * The working directory when the library was loaded (CPython's `ORIGINAL_DIR`), where the
 * program's loader flags (`--import tsx`, `-r dotenv/config`) were resolved: a child starts there
 * and resolves them alike, then moves to its parent's directory of the moment. Undefined where
 * it could not be read (Deno without read access).
 */
const ORIGINAL_DIR = currentDir() ?? undefined;

/** The working directory now, or null if it cannot be read (removed, or no permission). */
export function currentDir(): string | null {
  try {
    return cwd();
  } catch {
    return null;
  }
}

/**
 * What changed in the environment between two readings of it (`environment()`): the variables
 * set (new or changed) and those removed.
 */
export interface EnvChanges {
  set: Record<string, string>;
  unset: string[];
}

/** The environment variables now, or null if they cannot be read (Deno without `--allow-env`). */
export function environment(): Record<string, string> | null {
  try {
    if (runtime === "deno") return deno().env.toObject();
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(globalThis.process.env)) if (v !== undefined) out[k] = v;
    return out;
  } catch {
    return null;
  }
}

/** The changes from `before` to `now`, or null if none (or either could not be read). */
export function envChanges(
  before: Record<string, string> | null,
  now: Record<string, string> | null,
): EnvChanges | null {
  if (!before || !now) return null;
  const set: Record<string, string> = {};
  let changed = false;
  for (const [k, v] of Object.entries(now)) {
    if (before[k] !== v) (set[k] = v, changed = true);
  }
  const unset = Object.keys(before).filter((k) => !(k in now));
  return changed || unset.length > 0 ? { set, unset } : null;
}

/** Makes `changes` in this process's environment (what it cannot change is left). */
export function adoptEnvChanges(changes: EnvChanges): void {
  try {
    if (runtime === "deno") {
      const env = deno().env;
      for (const [k, v] of Object.entries(changes.set)) env.set(k, v);
      for (const k of changes.unset) env.delete(k);
      return;
    }
    const env = globalThis.process.env;
    for (const [k, v] of Object.entries(changes.set)) env[k] = v;
    for (const k of changes.unset) delete env[k];
  } catch {
    // no permission: the environment stays the one the child started with
  }
}

/** `ORIGINAL_DIR`, else the working directory now. */
export function originalDir(): string {
  return ORIGINAL_DIR ?? cwd();
}

/**
 * The directory a `"process"` child starts in: `originalDir()`, where the program's loader flags
 * and configuration (Node's `--import tsx`, a `deno.json` or `bunfig.toml` found from there) were
 * resolved, so that the child resolves them alike; it then works in its parent's directory of the
 * moment (`enterDir`). Undefined (the current one) if that directory is gone, or unreadable (Deno
with read access elsewhere only).
 */
export function childHome(): string | undefined {
  const home = ORIGINAL_DIR ?? currentDir();
  return home !== null && fileExists(home) ? home : undefined;
}

/**
 * Makes `dir` this process's working directory, as its parent's is (a `"process"` child's
 * first step; never in a thread, whose directory is its process's). Quietly stays where it is
 * when that fails: the program's own paths then say what is missing.
 */
export function enterDir(dir: string): void {
  try {
    if (dir === cwd()) return;
    if (runtime === "deno") deno().chdir(dir);
    else globalThis.process.chdir(dir);
  } catch {
    // gone, or no permission: as a child of a parent in a removed directory would be
  }
}

/** The canonical absolute path of `path` (symbolic links resolved); throws if it is missing. */
export function realpath(path: string): string {
  const fs = nodeFs();
  return fs ? fs.realpathSync(path) : deno().realPathSync(path);
}

/** Whether `path` is a directory (symbolic links followed); throws if it is missing. */
export function isDirectory(path: string): boolean {
  const fs = nodeFs();
  return fs ? fs.statSync(path).isDirectory() : deno().statSync(path).isDirectory;
}

/** Whether a file is at `path`; `undefined` when that cannot be known (Deno without read access). */
export function fileExists(path: string): boolean | undefined {
  const fs = nodeFs();
  if (fs) return fs.existsSync(path);
  try {
    deno().statSync(path);
    return true;
  } catch (error) {
    return error instanceof deno().errors.NotFound ? false : undefined;
  }
}

/** The contents of the UTF-8 text file at `path`. */
export function readTextFile(path: string): string {
  const fs = nodeFs();
  return fs ? fs.readFileSync(path, "utf8") : deno().readTextFileSync(path);
}

/**
 * The path of the script this process was started with and the arguments after it
 * (`process.argv[1]` and on; Deno's main module), or `undefined` if there is none (a REPL, an
 * eval, a remote main module).
 */
export function mainScript(): { path: string | undefined; args: string[] } {
  if (runtime !== "deno") {
    const argv = globalThis.process.argv;
    return { path: argv[1], args: argv.slice(2) };
  }
  const main = deno().mainModule;
  return { path: main?.startsWith("file:") ? fileUrlToPath(main) : undefined, args: deno().args };
}

/**
 * The environment variable `name`, or `undefined` if it is not set (or, on Deno, may not be read:
 * no `--allow-env`).
 */
export function envVar(name: string): string | undefined {
  if (runtime !== "deno") return globalThis.process.env[name];
  try {
    // Asked first: reading a variable not granted would prompt the user in a terminal.
    const d = deno();
    if (d.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return d.env.get(name);
  } catch {
    return undefined; // not allowed
  }
}

/** The path of a `file:` URL (POSIX). */
export function fileUrlToPath(url: string | URL): string {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol !== "file:") throw new TypeError(`not a file: URL: ${u.href}`);
  return decodeURIComponent(u.pathname);
}

const URL_ESCAPES: Record<string, string> = {
  "%": "%25",
  "\\": "%5C",
  "\n": "%0A",
  "\r": "%0D",
  "\t": "%09",
};

/** The `file:` URL of `path`, made absolute against the working directory (POSIX). */
export function pathToFileUrl(path: string): URL {
  const url = new URL("file:///");
  // The pathname setter encodes most characters; these it would drop or misread.
  url.pathname = resolvePath(path).replace(/[%\\\n\r\t]/g, (c) => URL_ESCAPES[c]);
  return url;
}

/** `path` made absolute against the working directory, with `.` and `..` resolved (POSIX). */
export function resolvePath(path: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd()}/${path}`).split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "." && part !== "") parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * Whether this process may run the executable at `path` with no prompt: Linux only (the helpers
 * started this way are Linux tools), the file there and, on Deno, `--allow-run` granted for it.
 */
export function mayRun(path: string): boolean {
  try {
    if (runtime === "deno") {
      const d = deno();
      return d.build.os === "linux" && d.statSync(path).isFile
        && d.permissions.querySync({ name: "run", command: path }).state === "granted";
    }
    if (globalThis.process.platform !== "linux") return false;
    const fs = builtin<typeof import("node:fs")>("node:fs");
    fs.accessSync(path, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
