/**
 * A task as the pool holds it: one call, or a chunk of calls, of one function; its arguments
 * encoded for the workers' start method when it is submitted (as CPython pickles them), and its
 * result settled from what a worker sent back.
 * @module
 */
import { cancelledBy } from "../core/errors.ts";
import type { StartMethod } from "../core/start_method.ts";
import { Future, type TaskOwner } from "../futures/future.ts";
import { cloneRefusal, crossesAsIs, encodeArgs, type Encoding } from "../handles/encoding.ts";
import type { TargetRef } from "../targets/task.ts";
import type { AnyFn, Chunk } from "./calls.ts";
import { fromWireColumn, wireColumn } from "./columns.ts";
import type { FnEntry } from "./functions.ts";
import { type ChunkResult, type ChunkWire, JOB_CHUNKED, JOB_HANDLES, JOB_ONE } from "./protocol.ts";
import { TimeLimit } from "./time_limit.ts";
import { fromWire } from "./wire.ts";

/** A task: one call (or a chunk of calls) of one function. */
export interface Job<W> {
  id: number;
  fn: FnEntry;
  /**
   * Encoded: the call's arguments, its one argument itself (`JOB_ONE`), or `[0, rows]` /
   * `[1, columns]` of a chunk's.
   */
  args: unknown;
  /** Set for a chunk: its place, the index of its first call among its map's items. */
  chunk: { readonly first: number } | undefined;
  /** `JOB_CHUNKED`, `JOB_HANDLES` (the worker revives shared objects), `JOB_ONE`, as sent. */
  flags: number;
  future: Future<unknown>;
  /** The worker it was sent to, while it is there. */
  worker: W | undefined;
  /** Queued or running: its pool counts it, and has not settled it or let it go. */
  live: boolean;
  /**
   * A task that can be stopped while it runs (`run()` with a signal or timeout): sent only to an
   * idle worker, alone, so that it runs once sent and stopping it ends that worker only.
   */
  limits: TaskLimits | undefined;
  /** The clock of a task with a time limit (`limits.timeout`). */
  clock: TimeLimit | undefined;
}

/** What may stop one task: an abort signal, a time limit in milliseconds from its start. */
export interface TaskLimits {
  readonly signal?: AbortSignal;
  readonly timeout?: number;
}

/** @internal What a new task needs from its pool (its future's owner is internal too). */
export interface JobHome<W> {
  method: StartMethod;
  /** How errors name the pool, e.g. `ProcessPoolExecutor.submit()`. */
  what: string;
  /** What the task's future asks when it is cancelled. */
  owner: TaskOwner<Job<W>>;
  /** The pool's record of the function `fn`. */
  entry(fn: AnyFn | TargetRef): FnEntry;
  /** Stops the task with `error`: its time limit passed, or its signal aborted. */
  stop(job: Job<W>, error: Error): void;
}

/**
 * @internal The task `id` of the call `fn(...args)`, or of every call of `chunk`: its arguments
 * encoded now (as CPython pickles them at submit; `args` is the task's from now: callers pass an
 * array of their own, not one the program may change), its future attached to `home`, its time
 * limit and signal watched. When the arguments cannot be encoded, or the signal has aborted
 * already, there is no task: the future, settled, instead.
 */
export function newJob<W>(
  id: number,
  fn: AnyFn | TargetRef,
  args: unknown[],
  chunk: Chunk | undefined,
  limits: TaskLimits | undefined,
  home: JobHome<W>,
): Job<W> | Future<unknown> {
  const future = new Future<unknown>();
  let encoded: unknown = args; // a call of primitives (the common case) goes as it is
  let flags = chunk ? JOB_CHUNKED : 0;
  if (!chunk && args.length === 1 && crossesAsIs(args[0])) {
    encoded = args[0];
    flags |= JOB_ONE;
  } else if (chunk || !args.every(crossesAsIs)) {
    const encoding: Encoding = { handles: false }; // its own: a getter may submit meanwhile
    try {
      encoded = encodeJobArgs(args, chunk, home.method, home.what, encoding);
    } catch (error) {
      future._setException(error);
      return future;
    }
    if (encoding.handles) flags |= JOB_HANDLES;
  }
  if (limits?.signal?.aborted) {
    future._setCancelled(cancelledBy(limits.signal));
    return future;
  }
  const job: Job<W> = {
    id,
    fn: home.entry(fn),
    args: encoded,
    chunk: chunk && { first: chunk.first },
    flags,
    future,
    worker: undefined,
    live: true,
    limits,
    clock: undefined,
  };
  future._attach(home.owner, job);
  if (limits?.timeout !== undefined) {
    const clock = new TimeLimit(limits.timeout, home.what, (error) => home.stop(job, error));
    job.clock = clock;
    future.addDoneCallback(() => clock.clear());
  }
  if (limits?.signal) {
    const signal = limits.signal;
    const onAbort = () => home.stop(job, cancelledBy(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    future.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
  }
  return job;
}

/**
 * The arguments of a call (`args`), or of every call of `chunk`, encoded for children of
 * `method`: shared objects as handles, the rest checked to cross as far as the encoding cannot prove
 * it (the pool reports a batch that does not go, WorkerPool's #unsent); `encoding.handles` set if
 * they hold any. Errors name the pool (`what`) and the item and argument.
 */
export function encodeJobArgs(
  args: unknown[],
  chunk: Chunk | undefined,
  method: StartMethod,
  what: string,
  encoding: Encoding,
): unknown[] {
  const encode = (values: unknown[], where: (i: number) => string) =>
    encodeArgs(values, method, (i) => `${what}: ${where(i)}`, "walk", encoding);
  if (!chunk) return encode(args, (j) => `argument ${j}`);
  if (chunk.kind === "cols") {
    return [
      1,
      chunk.cols.map((col, j) => {
        const wire = wireColumn(col); // numbers, strings, records: by column
        return wire !== col ? wire : encode(col, (k) => `item ${chunk.first + k}, argument ${j}`);
      }),
    ];
  }
  return [
    0,
    chunk.rows.map((row, k) => encode(row, (j) => `item ${chunk.first + k}, argument ${j}`)),
  ];
}

/**
 * The tasks of a batch whose message could not be sent (`error`): those with an argument that does
 * not clone (what the encoding could not see) are `failed`, with an error naming its position; the
 * others are to be sent `again`. If every task clones on its own, yet the batch did not go, they
 * all fail with the send's error, rather than loop.
 */
export function triageUnsent<W>(
  batch: Job<W>[],
  error: unknown,
  what: string,
): { failed: [Job<W>, unknown][]; again: Job<W>[] } {
  const failed: [Job<W>, unknown][] = [];
  const again: Job<W>[] = [];
  for (const job of batch) {
    const refused = unsendable(job, what);
    if (refused) failed.push([job, refused]);
    else again.push(job);
  }
  return failed.length
    ? { failed, again }
    : { failed: again.map((job) => [job, error]), again: [] };
}

/**
 * The error for `job` if one of its arguments does not clone (what a failed send of its batch may
 * have met that the encoding could not see), naming its position; null if they all clone.
 */
function unsendable<W>(job: Job<W>, what: string): TypeError | null {
  const first = (values: ArrayLike<unknown>, where: (i: number) => string): TypeError | null => {
    for (let i = 0; i < values.length; i++) {
      const refused = cloneRefusal(values[i], () => `${what}: ${where(i)}`);
      if (refused) return refused;
    }
    return null;
  };
  if (!job.chunk) {
    const args = job.flags & JOB_ONE ? [job.args] : job.args as unknown[];
    return first(args, (j) => `argument ${j}`);
  }
  const [byColumns, data] = job.args as [number, unknown[][]];
  const { first: start } = job.chunk;
  const item = (k: number) => `item ${start + k}`;
  for (let m = 0; m < data.length; m++) {
    const found = first(
      data[m],
      (i) => byColumns ? `${item(i)}, argument ${m}` : `${item(m)}, argument ${i}`,
    );
    if (found) return found;
  }
  return null;
}

/**
 * Settles `job`'s future with what its worker sent: `ok` and the value (a chunk's values and
 * errors, as a `ChunkResult`), or the error.
 */
export function settleJob<W>(job: Job<W>, ok: boolean, value: unknown): void {
  if (ok && job.chunk) {
    const [values, errors] = value as ChunkWire;
    const result: ChunkResult = {
      values: fromWireColumn(values),
      errors: errors && new Map(errors.map(([k, e]) => [k, fromWire(e)])),
    };
    job.future._setResult(result);
  } else if (ok) job.future._setResult(value);
  else job.future._setException(value);
}
