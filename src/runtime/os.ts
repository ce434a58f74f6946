/**
 * Facts the parent side needs from the OS: CPUs, signals, the entry module, exit hooks. On Deno
 * with Deno's own APIs (a `node:` module costs milliseconds of start-up there, see host.ts).
 * @module
 */
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";
import {
  builtin,
  cleanModuleUrl,
  fileUrlToPath,
  mainScript,
  pathToFileUrl,
  realpath,
} from "./host.ts";
import { moduleRunner } from "./module_runner.ts";

/** Node's `os` (not on Deno, where Deno's own APIs serve). */
const nodeOs = () => (runtime === "deno" ? null : builtin<typeof import("node:os")>("node:os"));

/** Number of logical CPUs available to this process. */
export function hostCpuCount(): number {
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return n > 0 ? n : nodeOs()?.availableParallelism() ?? 1;
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
  if (runtime !== "deno") {
    globalThis.process.on("exit", runExitCallbacks);
    return;
  }
  // "unload" comes at the end and on Deno.exit(); an uncaught error ends Deno without it.
  globalThis.addEventListener("unload", runExitCallbacks);
  for (const type of ["error", "unhandledrejection"]) {
    globalThis.addEventListener(type, (event) => {
      if (!event.defaultPrevented) onUnprevented(event, runExitCallbacks);
    });
  }
}

const preventedOf = Object.getOwnPropertyDescriptor(Event.prototype, "defaultPrevented")?.get;

/**
 * Runs `then` if Deno ends the program for the uncaught error of `event`: once every listener has
 * run. Ours is added as the library loads, before the program's own, which may still prevent
 * the end (`preventDefault()`, or `process.on("uncaughtException")`): running the exit callbacks
 * here ended every child and unlinked every segment of a program that went on. Deno reads
 * `defaultPrevented` to decide, after its dispatch (`eventPhase` back to NONE); that read, if
 * false, runs `then`. An unhandled rejection goes on to `process.on("unhandledRejection")`
 * listeners, if the program has some, which keep it alive.
 */
function onUnprevented(event: Event, then: () => void): void {
  if (!preventedOf) return then();
  Object.defineProperty(event, "defaultPrevented", {
    configurable: true,
    get(): boolean {
      const prevented = preventedOf.call(event) as boolean;
      if (prevented || event.eventPhase !== Event.NONE) return prevented;
      delete (event as { defaultPrevented?: boolean }).defaultPrevented;
      const nodeListeners = event.type === "unhandledrejection"
        && (globalThis.process?.listenerCount?.("unhandledRejection") ?? 0) > 0;
      if (!nodeListeners) then();
      return prevented;
    },
  });
}

let signalsHooked = false;

/**
 * Also runs the exit callbacks when SIGINT, SIGTERM or SIGHUP would end the process (which
 * then still ends, with the same status). Only for programs that need it (named shared-memory
 * segments to unlink): a JavaScript signal handler runs only when the event loop does, so while
 * the main thread blocks in a synchronous wait the signal waits too. In the main thread only: a
 * signal is the process's, which ends with all its threads (Node gives workers none), and on Deno
 * a listener of a worker that ended first (a thread child terminated by the main thread's exit
 * callbacks) could keep the signal caught: the main thread's re-raised SIGINT then ended nothing
 * (spec/interrupt.test.ts's thread case, 1 run in 4: the program still ran 30 s later).
 */
export function runExitCallbacksOnSignals(): void {
  if (signalsHooked || !isMainThread()) return;
  signalsHooked = true;
  for (const signal of SIGNALS) {
    if (runtime === "deno") {
      const d = deno();
      const onSignal = () => {
        runExitCallbacks();
        d.removeSignalListener(signal, onSignal);
        d.kill(d.pid, signal);
      };
      d.addSignalListener(signal, onSignal);
      continue;
    }
    const process = globalThis.process;
    // `bun --watch` calls SIGTERM's listeners, sending no signal, before it starts the program
    // again in the same process: re-raised at once, the signal ended the watcher too. Re-raised a
    // turn later, it still ends a program that a real signal reached; a restart has come first.
    const later = runtime === "bun" && process.execArgv.includes("--watch");
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return; // the program handles it itself
      runExitCallbacks();
      process.removeListener(signal, onSignal);
      if (later) setTimeout(() => process.kill(process.pid, signal), 0);
      else process.kill(process.pid, signal);
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

/** Signal numbers that POSIX systems share (the rest differ between Linux and macOS). */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Maps a signal name such as `"SIGTERM"` to the negative exit code CPython reports (-15). */
export function signalExitCode(signal: string | number): number {
  if (typeof signal === "number") return -signal;
  const n = (nodeOs()?.constants.signals as Record<string, number> | undefined)?.[signal]
    ?? SIGNAL_NUMBERS[signal];
  return n === undefined ? -1 : -n;
}

/**
 * Whether `url` names the entry module this process was started with. A script run by a
 * launcher (the `zx` command) is the entry, not the launcher.
 */
export function isEntryUrl(url: string, importMetaMain: unknown): boolean {
  if (importMetaMain === true) return true;
  const { launcher, files, known } = entryFiles();
  if (typeof importMetaMain === "boolean" && !launcher) return false;
  const clean = cleanModuleUrl(url);
  let is = known.get(clean);
  if (is === undefined) {
    try {
      is = clean.startsWith("file:") && files.includes(realpath(fileUrlToPath(clean)));
    } catch {
      is = false;
    }
    known.set(clean, is); // asked at every map or submit of a new function: one realpath each
  }
  return is;
}

/**
 * The program's main module, as the runtime keys it (Deno's `mainModule`; on Node and Bun, which
 * key modules by real path, the script's), where it is an ES module: in the main thread of a
 * process that is not a child of this library (a child's main is `childEntry`, the library's
 * entry script, until it takes its parent's command line), and neither a CommonJS main
 * (`process.mainModule`), a script run by a launcher, a test runner's command (vitest, Jest), a
 * REPL nor an eval. `watchable`: whether importing it while it evaluates gives a promise of its
 * evaluation's end. Not on Deno, where such an import issued before the module's body runs made
 * later imports wait on it (measured: spec/fixtures/scripts/argv.ts hung).
 */
export function programMainModule(
  childEntry: string,
): { url: string; watchable: boolean } | undefined {
  const path = mainScript().path;
  if (path === undefined) return undefined;
  const entryPath = childEntry.startsWith("file:") ? fileUrlToPath(childEntry) : null;
  // A process child's main is the entry path its parent gave it: told apart as given, with no
  // realpath (on Bun, the first use of node:fs costs a child ~3.8 MB of resident memory).
  if (path === entryPath) return undefined;
  let real: string;
  try {
    real = realpath(path);
    // first: a process child loads no more for this
    if (entryPath !== null && real === realpath(entryPath)) return undefined;
  } catch {
    return undefined; // no such file: an eval's name, say
  }
  if (!isMainThread() || entryFiles().launcher) return undefined;
  // A test runner's command, which an import() from a module the runner loads would run again.
  if (moduleRunner() !== undefined) return undefined;
  if (runtime !== "deno" && globalThis.process.mainModule !== undefined) return undefined;
  if (runtime === "deno") {
    const url = deno().mainModule; // (none in a Web Worker)
    return url === undefined ? undefined : { url, watchable: false };
  }
  return { url: pathToFileUrl(real).href, watchable: true };
}

/** Whether this is the main thread of its process (not a worker). */
function isMainThread(): boolean {
  if (runtime === "bun") {
    return (globalThis as { Bun?: { isMainThread?: boolean } }).Bun?.isMainThread !== false;
  }
  if (runtime === "deno") {
    const scope = (globalThis as { WorkerGlobalScope?: new() => unknown }).WorkerGlobalScope;
    return scope === undefined || !(globalThis instanceof scope);
  }
  return builtin<typeof import("node:worker_threads")>("node:worker_threads").isMainThread;
}

/** Launchers that import the script named by their first argument that is not an option. */
const LAUNCHER = /[\\/]zx[\\/]build[\\/]cli\.c?js$/;

/** The entry's files, and whether each module URL asked about is one of them. */
interface EntryFiles {
  launcher: boolean;
  files: string[];
  known: Map<string, boolean>;
}

let entries: EntryFiles | undefined;

function entryFiles(): EntryFiles {
  if (entries) return entries;
  const real = (path: string | undefined) => {
    try {
      return path ? realpath(path) : undefined;
    } catch {
      return undefined;
    }
  };
  const main = mainScript();
  const entry = real(main.path);
  const launcher = entry !== undefined && LAUNCHER.test(entry);
  const script = launcher ? main.args.find((a) => !a.startsWith("-")) : undefined;
  const files = [launcher ? real(script) : entry].filter((f): f is string => f !== undefined);
  return entries = { launcher, files, known: new Map() };
}

/**
 * Calls `callback` when SIGINT or SIGTERM asks this process to stop, instead of the default end
 * (a service's graceful shutdown; the callback ends the process when it is done).
 */
export function onStopSignal(callback: (signal: "SIGINT" | "SIGTERM") => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    if (runtime === "deno") deno().addSignalListener(signal, () => callback(signal));
    else globalThis.process.on(signal, () => callback(signal));
  }
}
