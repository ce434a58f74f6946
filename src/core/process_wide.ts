/**
 * Process-wide values: the one place for what every copy of the library loaded in one isolate
 * must share. A program may load the library twice -- its package and a Deno URL import, `dist/`
 * and `src/`, a bundle -- and both copies must agree on who this process is, who owns its locks,
 * which functions are marked, which loader is registered.
 *
 * The rule. A module-level variable holds what one copy of a module may keep to itself: caches,
 * the table of its own classes (`registerKind`), its own children. Anything another copy must
 * see lives here instead, under a name listed in `GlobalName`, on `globalThis` at
 * `Symbol.for("multiproc.<name>")` (a name gets a new suffix when its shape changes, so copies
 * of two versions do not misread each other). Nothing else in the library writes to
 * `globalThis`. (Symbols that only name a protocol, such as `HANDLE`, are `Symbol.for` too, so
 * that copies recognize each other's objects, but hold no state.)
 *
 * Imports nothing: every layer may use it.
 * @module
 */

/** Every process-wide value, and the module that owns it. */
export type GlobalName =
  /** state/state.ts: who this isolate is (identity, parent, default start method, parent channel). */
  | "state"
  /** state/state.ts: callbacks run when a child's target has ended. */
  | "atChildExit"
  /** memory/tracker.ts: this process's registry of named shared-memory segments. */
  | "shmTracker"
  /** memory/tracker.ts: the cell thread children share to find that registry. */
  | "shmTrackerCell"
  /** runtime/host.ts: the parent pid this process watches to end with it. */
  | "watchedParent"
  /** runtime/node_loader.ts: tsx is registered in this isolate (a thread child's prelude sets it). */
  | "tsxRegistered"
  /** targets/task.ts: the functions marked with `task()`, in order, per module. */
  | "taskMarks.v2"
  /** targets/evaluating.ts: entry modules still evaluating. */
  | "evaluatingEntries"
  /** targets/evaluating.ts: the program's main module, watched from the library's load. */
  | "programMain"
  /** sync/owner.ts: this thread's owner token and its process's thread table. */
  | "owner"
  /** sync/owner.ts: how a thread child ends itself when its parent asks. */
  | "endThread"
  /** pool/progress.ts: how `progress()` reports on the task this pool worker runs. */
  | "poolProgress"
  /** core/starting.ts: the processes this thread is starting (their start() not yet done). */
  | "startingProcesses.v1";

/** The `globalThis` key of `name`. */
export function globalKey(name: GlobalName): symbol {
  return Symbol.for(`multiproc.${name}`);
}

const g = globalThis as unknown as Record<symbol, unknown>;

/** The value of `name`, or undefined if none was written. */
export function readGlobal<T>(name: GlobalName): T | undefined {
  return g[globalKey(name)] as T | undefined;
}

/** Writes the value of `name`; returns it. */
export function writeGlobal<T>(name: GlobalName, value: T): T {
  g[globalKey(name)] = value;
  return value;
}

/**
 * The value of `name`, made by `init` by the first copy that asks, null or undefined included:
 * no later copy makes it again. (A child's main module is none; a second copy of the library,
 * loaded by the child's target after the child took its parent's command line, once took that
 * for "not made yet" and found the parent's main script: the child imported and ran it.)
 */
export function processWide<T>(name: GlobalName, init: () => T): T {
  const key = globalKey(name);
  if (!(key in g)) g[key] = init();
  return g[key] as T;
}
