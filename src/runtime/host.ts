/**
 * Facts about, and operations on, the process this code runs in, the same on every runtime.
 * Child start-up goes through this module, so it imports no `node:` module: on Deno each one
 * costs milliseconds of Node-compatibility start-up before a child can say it runs.
 * @module
 */
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";

/** This OS process's id. */
export const pid: number = runtime === "deno" ? deno().pid : globalThis.process.pid;

/** The parent OS process's id, read afresh (it changes when the parent dies). */
export function ppid(): number {
  return runtime === "deno" ? deno().ppid : globalThis.process.ppid;
}

const PARENT_KEY = Symbol.for("multiproc.watchedParent");
const g = globalThis as unknown as { [PARENT_KEY]?: number };

/** Records the parent pid a `"process"` child must outlive no longer than. */
export function watchParentPid(pid: number): void {
  g[PARENT_KEY] = pid;
}

/** Whether this process child's parent has ended (it was re-parented). */
export function parentGone(): boolean {
  const watched = g[PARENT_KEY];
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
