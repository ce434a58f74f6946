/**
 * Facts the parent side needs from the OS: CPUs, signals, the entry module, exit hooks.
 * @module
 */
import { realpathSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cleanModuleUrl } from "./host.ts";

/** Number of logical CPUs available to this process. */
export function hostCpuCount(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return n > 0 ? n : availableParallelism();
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
