/**
 * What a cluster job carries between a `ClusterExecutor` and `multiproc worker`: the function's
 * name across machines, its arguments encoded (codec.ts), an optional time limit; and back, the
 * result or the task's own error, encoded. A job's failure in BullMQ's sense means the cluster
 * lost it (its worker died too often), never the task's error.
 * @module
 */
import type { Packed } from "./codec.ts";
import type { RemoteRef } from "./naming.ts";

/** A job's data. */
export interface TaskData {
  readonly ref: RemoteRef;
  /**
   * Encoded: the call's arguments, or with `chunk` the columns of the calls' arguments (one array
   * per parameter, item `k` of each making call `k`): one array of numbers encodes and decodes
   * far faster than as many one-item arrays as calls.
   */
  readonly args: string | SideRef;
  readonly chunk: boolean;
  /** Milliseconds the task may run, from its start in the worker. */
  readonly timeout?: number;
  /** The most bytes its result may take encoded (its client's `maxTaskBytes`). */
  readonly maxBytes?: number;
}

/** `maxTaskBytes` by default: a job this large takes seconds through Redis each way. */
export const DEFAULT_TASK_BYTES = 64 * 1024 * 1024;
/** Redis's limit for one value (`proto-max-bulk-len`): a job's data is one. */
export const MAX_TASK_BYTES = 512 * 1024 * 1024;

/** A job's return value: the task's result, or its error, encoded. */
export type TaskResult = { readonly ok: true; readonly value: string | SideRef } | {
  readonly ok: false;
  readonly error: string;
};

/**
 * A large value (packed: over `SIDE_MIN` bytes) kept in a Redis key of its own rather than in its
 * job: bytes as they are (no base64, no JSON around them, no Lua script copying them), and no
 * copy in BullMQ's event stream. `json`: the key holds JSON text (else MessagePack).
 */
export interface SideRef {
  readonly key: string;
  readonly json: boolean;
}

/** Packed values larger than this (bytes) go in a key of their own. */
export const SIDE_MIN = 1 << 20;

/** The key of job `id`'s arguments or result, when large. */
export function sideKey(queue: string, id: string, what: "args" | "result"): string {
  return `multiproc:${queue}:${what}:${id}`;
}

/**
 * How long large arguments are kept (s), for a client that dies: past a job's longest wait in
 * the queue. Its client deletes them once the task has settled.
 */
export const ARGS_TTL_S = 7 * 24 * 3600;
/** How long a large result is kept (s), as long as the job's own (BullMQ's removeOnComplete). */
export const RESULT_TTL_S = 600;

/** Whether `packed` goes in a key of its own (JSON text by its length in characters). */
export function isLarge(packed: Packed): boolean {
  return (typeof packed === "string" ? packed.length : packed.byteLength) > SIDE_MIN;
}

/** A child's result: as a job's, or `large` (over `SIDE_MIN`) for the worker to put in a key. */
export type ChildResult = TaskResult | { readonly ok: true; readonly large: Packed };

/** What a worker's child answers for a job: its result, and how long the call(s) took there (ms). */
export interface RunOutcome {
  readonly result: ChildResult;
  readonly ms: number;
}

/** A chunk's results: the value of each call, and the errors of the calls that failed. */
export interface ChunkOutcome {
  readonly values: unknown[];
  readonly errors: [number, unknown][];
}

/** The Redis channel on which clients ask the workers of `queue` to stop a running job. */
export function stopChannel(queue: string): string {
  return `multiproc:${queue}:stop`;
}

/**
 * The Redis key that records a stop asked for job `id` of `queue`, for a worker that did not hear
 * it on the channel (it was disconnected then): it looks when it is back, and before each job.
 */
export function stopKey(queue: string, id: string): string {
  return `multiproc:${queue}:stopped:${id}`;
}

/** How long a stop is remembered (seconds): past a job's longest life in the queue. */
export const STOP_TTL_S = 3600;
