/**
 * Facts the parent side needs from the OS: CPUs, signals, the entry module, exit hooks.
 * @module
 */
import { realpathSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtime } from "./detect.ts";
import { cleanModuleUrl } from "./host.ts";

/** Number of logical CPUs available to this process. */
export function hostCpuCount(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return n > 0 ? n : availableParallelism();
}

const exitCallbacks: (() => void)[] = [];
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function runExitCallbacks(): void {
  for (const callback of exitCallbacks.splice(0)) {
    try {
      callback();
    } catch {
      // one failing callback must not stop the others
    }
  }
}

function installExitHooks(): void {
  process.on("exit", runExitCallbacks);
  if (runtime === "deno") {
    // Deno ends on an uncaught error without the "exit" event.
    for (const type of ["error", "unhandledrejection"]) {
      globalThis.addEventListener(type, (event) => {
        if (!event.defaultPrevented) runExitCallbacks();
      });
    }
  }
}

let signalsHooked = false;

/**
 * Also runs the exit callbacks when SIGINT, SIGTERM or SIGHUP would end the process (which
 * then still ends, with the same status). Only for programs that need it (named shared-memory
 * segments to unlink): a JavaScript signal handler runs only when the event loop does, so while
 * the main thread blocks in a synchronous wait the signal waits too.
 */
export function runExitCallbacksOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of SIGNALS) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return; // the program handles it itself
      runExitCallbacks();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Runs `callback` synchronously when this process ends: normally, by `exit()`, or after an
 * uncaught error (and on signals once `runExitCallbacksOnSignals()` was called).
 */
export function onProcessExit(callback: () => void): void {
  if (!hooked) {
    hooked = true;
    installExitHooks();
  }
  exitCallbacks.push(callback);
}
let hooked = false;

/** Maps a signal name such as `"SIGTERM"` to the negative exit code CPython reports (-15). */
export function signalExitCode(signal: string | number): number {
  if (typeof signal === "number") return -signal;
  const n = (constants.signals as Record<string, number>)[signal];
  return n === undefined ? -1 : -n;
}

/**
 * Whether `url` names the entry module this process was started with. A script run by a
 * launcher (the `zx` command) is the entry, not the launcher.
 */
export function isEntryUrl(url: string, importMetaMain: unknown): boolean {
  if (importMetaMain === true) return true;
  const { launcher, files } = entryFiles();
  if (typeof importMetaMain === "boolean" && !launcher) return false;
  try {
    const clean = cleanModuleUrl(url);
    if (!clean.startsWith("file:")) return false;
    return files.includes(realpathSync(fileURLToPath(clean)));
  } catch {
    return false;
  }
}

/** Launchers that import the script named by their first argument that is not an option. */
const LAUNCHER = /[\\/]zx[\\/]build[\\/]cli\.c?js$/;

let entries: { launcher: boolean; files: string[] } | undefined;

function entryFiles(): { launcher: boolean; files: string[] } {
  if (entries) return entries;
  const real = (path: string | undefined) => {
    try {
      return path ? realpathSync(path) : undefined;
    } catch {
      return undefined;
    }
  };
  const entry = real(process.argv[1]);
  const launcher = entry !== undefined && LAUNCHER.test(entry);
  const script = launcher ? process.argv.slice(2).find((a) => !a.startsWith("-")) : undefined;
  const files = [launcher ? real(script) : entry].filter((f): f is string => f !== undefined);
  return entries = { launcher, files };
}
