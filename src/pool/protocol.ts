/**
 * Messages between a pool and its workers. Tasks and results travel in batches, as flat arrays
 * (cheaper to clone than arrays of objects).
 * @module
 */
import type { TargetRef } from "../targets/task.ts";
import type { Column, WireColumn } from "./columns.ts";
import type { WireError } from "./wire.ts";

/**
 * Fields per task in `RunMessage.jobs`: id, function id, args, flags (`JOB_CHUNKED` | `JOB_TIMED`
 * | `JOB_HANDLES` | `JOB_ONE`).
 */
export const JOB_FIELDS = 4;
/** Job flag: the args are a chunk's (a list of arg lists). */
export const JOB_CHUNKED = 1;
/** Job flag: the worker says when the task starts (`StartedMessage`): its time limit runs from then. */
export const JOB_TIMED = 2;
/** Job flag: the args hold handles of shared objects, to revive before the call. */
export const JOB_HANDLES = 4;
/**
 * Job flag: the args are the call's one argument itself, a primitive (the common tiny task): no
 * array of its own to keep while queued, or to clone.
 */
export const JOB_ONE = 8;
/** Fields per result in `DoneMessage.results`: id, ok (1/0), value or WireError. */
export const RESULT_FIELDS = 3;

/** Parent -> worker: functions it has not seen yet, and tasks to run in order. */
export interface RunMessage {
  op: "run";
  fns?: [number, TargetRef][];
  /** Flat (`JOB_FIELDS` per task), or by field (a long batch: batch_wire.ts). */
  jobs: unknown[] | JobFields;
}
/** Tasks by field: their ids, function ids, flags, how many arguments each, all arguments. */
export interface JobFields {
  readonly ids: WireColumn;
  readonly fns: WireColumn;
  readonly flags: WireColumn;
  readonly arity: WireColumn;
  readonly args: WireColumn;
}

/** Results by field: their task ids, whether each returned (1) or raised (0), the values. */
export interface ResultFields {
  readonly ids: WireColumn;
  readonly ok: WireColumn;
  readonly values: WireColumn;
}

/** Parent -> worker: finish what was sent, then end. */
export interface ExitMessage {
  op: "exit";
}

/** Worker -> parent: the initializer ran; send tasks. */
export interface HelloMessage {
  op: "hello";
}

/** Worker -> parent: the initializer threw; the pool is broken. */
export interface InitFailedMessage {
  op: "initFailed";
  error: WireError;
}

/**
 * Worker -> parent: the task `id` (sent with `JOB_TIMED`) starts now, its function loaded and its
 * arguments read.
 */
export interface StartedMessage {
  op: "started";
  id: number;
}

/** Worker -> parent: results, and how long the worker was busy computing them. */
export interface DoneMessage {
  op: "done";
  /** Flat (`RESULT_FIELDS` per task), or by field (a long batch: batch_wire.ts). */
  results: unknown[] | ResultFields;
  busyMs: number;
}

/** Fields per report in `ProgressMessage.reports`: task id, value. */
export const REPORT_FIELDS = 2;

/**
 * Worker -> parent: what tasks reported with `progress()`, in order (sent as they come, or
 * gathered when they come close together; always before the results of the same tasks).
 */
export interface ProgressMessage {
  op: "progress";
  reports: unknown[];
}

/** What a worker is started with. */
export interface WorkerConfig {
  initializer: TargetRef | null;
  initargs: unknown[];
  maxTasks: number | null;
}

/**
 * A chunked task's result as it crosses: the values (as `wireColumn` makes them: numbers as a
 * typed array, strings joined, records by field), and the errors by index (if any).
 */
export type ChunkWire = [values: WireColumn, errors: [number, WireError][] | null];

/** A chunked task's result in the parent. */
export interface ChunkResult {
  values: Column;
  errors: Map<number, Error> | null;
}
