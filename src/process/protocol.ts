/**
 * Messages between a parent and a `Process` child.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import type { TrackerRef } from "../memory/tracker.ts";
import type { ProcessInfo } from "../state/state.ts";
import type { ThreadIdentity } from "../sync/owner.ts";
import type { TargetRef } from "../targets/task.ts";

/** Parent → child: who you are and what to run. */
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
  /** A thread child's place in its process's thread table (its owner token for locks). */
  thread: ThreadIdentity | null;
  /** The registry of named shared-memory segments, when this runtime can make them. */
  shmTracker: TrackerRef;
}

/** Child → parent: the child has found its target and runs it. */
export interface ReadyMessage {
  op: "ready";
}

/** Child → parent: the target cannot be found (then the child exits with 1). */
export interface NotFoundMessage {
  op: "notFound";
  error: { name: string; message: string };
}
