/**
 * Messages between a parent and a `Process` child.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import type { TrackerRef } from "../memory/tracker.ts";
import type { EnvChanges } from "../runtime/host.ts";
import type { ProcessInfo } from "../state/state.ts";
import type { ThreadIdentity } from "../sync/owner.ts";
import type { TargetRef } from "../targets/task.ts";

/** Parent -> child: who you are and what to run. */
export interface BootMessage {
  op: "boot";
  self: ProcessInfo;
  parent: ProcessInfo;
  identity: number[];
  method: StartMethod;
  target: TargetRef;
  args: unknown[];
  /** The parent's command line (`commandLine()`), seen by the child before any import. */
  argv: string[];
  /**
   * The parent's working directory at `start()` (null if unreadable), which a process child
   * makes its own before any import (CPython's preparation data `dir`).
   */
  dir: string | null;
  /** A thread child's place in its process's thread table (its owner token for locks). */
  thread: ThreadIdentity | null;
  /** The registry of named shared-memory segments, when this runtime can make them. */
  shmTracker: TrackerRef;
  /**
   * The test runner's globals the parent has (`describe`, `it`, ...): the child makes those it
   * lacks inert before it imports a target's module, which may be a test file (test_globals.ts).
   */
  testGlobals: string[];
  /**
   * A `"forkserver"` spare's: the parent's environment changes since the spare booted (null if
   * none), which it makes before its target's import, as a child spawned now would have them.
   */
  env?: EnvChanges | null;
}

/**
 * Parent -> a spare child of the `"forkserver"` method, at once: whose child it is and the
 * parent's command line, and the main module to import (with `isMain()` false) while it waits
 * for its boot message.
 */
export interface WarmMessage {
  op: "warm";
  parent: ProcessInfo;
  method: StartMethod;
  argv: string[];
  /** The parent's working directory now: the spare's while it imports the main module. */
  dir: string | null;
  /** The URL of the parent's main module, if it is a file the spare can import. */
  main: string | null;
  /**
   * A boot message like the one to come, which the spare reads and rehearses (looks for its
   * target, answers `"warmed"`) but does not run: the paths a boot takes, compiled before it.
   */
  rehearsal: BootMessage;
}

/** Spare -> parent: it has rehearsed its boot (the parent ignores it). */
export const WARMED = "warmed";

/** Child -> parent: the child has found its target and runs it. */
export interface ReadyMessage {
  op: "ready";
}

/** Child -> parent: the target cannot be found (then the child exits with 1). */
export interface NotFoundMessage {
  op: "notFound";
  error: { name: string; message: string };
}
