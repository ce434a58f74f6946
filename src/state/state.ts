/**
 * What this isolate knows about itself: whether it is a child, its identity and its parent's,
 * and the start method it defaults to. Kept on `globalThis` so that two copies of the library
 * loaded from different URLs in one isolate still agree.
 * @module
 */
import { processWide } from "../core/process_wide.ts";
import type { StartMethod } from "../core/start_method.ts";
import { pid } from "../runtime/host.ts";
import type { ParentChannel } from "../runtime/parent_channel.ts";

/**
 * Name and ids of a process (or thread child).
 * @example
 * ```ts
 * import { currentProcess } from "multiproc";
 * const me = currentProcess();
 * console.log(me.name, me.pid, me.ident, me.daemon); // "MainProcess" 1234 1234 false
 * ```
 */
export interface ProcessInfo {
  /** `"MainProcess"` in the main process, `Process-N` (or the name given) in a child. */
  name: string;
  /** The OS pid; a thread child shares its parent's. */
  readonly pid: number;
  /** Tells children apart: the pid for a process, a thread id for a thread. */
  readonly ident: number;
  /** Whether this child is a daemon (false in the main process). */
  readonly daemon: boolean;
}

interface State {
  self: ProcessInfo;
  parent: ProcessInfo | null;
  /** Position in the tree of children, as in CPython: `[]` for main, `[2, 1]` for Process-2:1. */
  identity: number[];
  childCounter: number;
  startMethod: StartMethod | null;
  channel: ParentChannel | null;
  /**
   * The main process's registry of named shared-memory segments, as the parent handed it down:
   * a `TrackerRef` that memory/tracker.ts reads (opaque here, a layer below it).
   */
  shmTracker: unknown;
  /**
   * The modules this child is importing before its target first runs (CPython's
   * `_inheriting`): a child started meanwhile is the program's main code run again by the
   * import, for want of an `isMain(import.meta)` guard (`refuseStartWhileBootstrapping`).
   */
  bootstrapping: string[];
}

/** This isolate's state, created on first use. */
export function state(): State {
  return processWide<State>("state", () => ({
    self: { name: "MainProcess", pid, ident: pid, daemon: false },
    parent: null,
    identity: [],
    childCounter: 0,
    startMethod: null,
    channel: null,
    shmTracker: null,
    bootstrapping: [],
  }));
}

/** Awaits `importing()`, this child's import of `url` before its target first runs. */
export async function whileBootstrapping<T>(url: string, importing: () => Promise<T>): Promise<T> {
  const list = state().bootstrapping;
  list.push(url);
  try {
    return await importing();
  } finally {
    list.splice(list.indexOf(url), 1);
  }
}

/**
 * Throws if this child is still importing a module to find its target (CPython's "bootstrapping
 * phase" error): a module that starts children at its top level would otherwise start them again
 * in every child that imports it, each waiting on its own children, and never find its target.
 */
export function refuseStartWhileBootstrapping(what: string): void {
  const url = state().bootstrapping[0];
  if (url === undefined) return;
  throw new Error(
    `${what}: this child is still importing '${url}' to find its target, and that import starts `
      + `a child. The module runs the program's main code at its top level: put that code under `
      + `\`if (isMain(import.meta)) { ... }\` (Python's \`if __name__ == "__main__":\`), so that `
      + `children importing the module for its functions do not run it again.`,
  );
}

const exitCallbacks = (): (() => void)[] => processWide("atChildExit", () => []);

/** Registers `callback` to run when this child ends normally (its target returned or threw). */
export function atChildExit(callback: () => void): void {
  exitCallbacks().push(callback);
}

/** Runs the `atChildExit` callbacks (the child bootstrap, before it exits). */
export function runChildExit(): void {
  for (const callback of exitCallbacks().splice(0)) {
    try {
      callback();
    } catch {
      // ending anyway
    }
  }
}
