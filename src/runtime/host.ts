/**
 * Facts about, and operations on, the process this code runs in, the same on every runtime.
 * @module
 */
import { realpathSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";

/** This OS process's id. */
export const pid: number = process.pid;

/** The parent OS process's id, read afresh (it changes when the parent dies). */
export function ppid(): number {
  return runtime === "deno" ? deno().ppid : process.ppid;
}

/** Number of logical CPUs available to this process. */
export function hostCpuCount(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return n > 0 ? n : availableParallelism();
}

/** Ends this OS process (or, inside a worker thread, only that thread) with `code`. */
export function exitNow(code: number): never {
  if (runtime === "deno") deno().exit(code);
  process.exit(code);
}

/** Runs `callback` synchronously when this process exits. */
export function onProcessExit(callback: () => void): void {
  process.on("exit", callback);
}

/** Maps a signal name such as `"SIGTERM"` to the negative exit code CPython reports (-15). */
export function signalExitCode(signal: string | number): number {
  if (typeof signal === "number") return -signal;
  const n = (constants.signals as Record<string, number>)[signal];
  return n === undefined ? -1 : -n;
}

/** Strips tsx's `?tsx-namespace=` query (and any other query) from a module URL. */
export function cleanModuleUrl(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** Whether `url` names the entry module this process was started with. */
export function isEntryUrl(url: string, importMetaMain: unknown): boolean {
  if (typeof importMetaMain === "boolean") return importMetaMain;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const clean = cleanModuleUrl(url);
    if (!clean.startsWith("file:")) return false;
    return realpathSync(fileURLToPath(clean)) === realpathSync(entry)
      || pathToFileURL(realpathSync(entry)).href === clean;
  } catch {
    return false;
  }
}

/** Whether source files of this library are TypeScript (a checkout) or built JavaScript. */
export function libraryExtension(moduleUrl: string): ".ts" | ".js" {
  return cleanModuleUrl(moduleUrl).endsWith(".ts") ? ".ts" : ".js";
}
