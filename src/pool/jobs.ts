/**
 * A task as the pool holds it: one call, or a chunk of calls, of one function; its arguments
 * encoded for the workers' start method when it is submitted (as CPython pickles them), and its
 * result settled from what a worker sent back.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import type { Future } from "../futures/future.ts";
import { crossesAsIs, encodeArgs, type Encoding, notCloneable } from "../handles/handle.ts";
import type { Chunk } from "./calls.ts";
import { fromWireColumn, wireColumn } from "./columns.ts";
import type { FnEntry } from "./functions.ts";
import type { ChunkResult, ChunkWire } from "./protocol.ts";
import type { TimeLimit } from "./time_limit.ts";
import { fromWire } from "./wire.ts";

/** A task: one call (or a chunk of calls) of one function. */
export interface Job<W> {
  id: number;
  fn: FnEntry;
  /** Encoded: the call's arguments, or `[0, rows]` / `[1, columns]` of a chunk's. */
  args: unknown[];
  chunked: boolean;
  /** Its arguments hold handles (shared objects), which the worker revives. */
  handles: boolean;
  future: Future<unknown>;
  /** The worker it was sent to, while it is there. */
  worker: W | undefined;
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
  // A call of primitives (the common case) is copied as it is, with no encoding to set up.
  if (!chunk && args.every(crossesAsIs)) return args.slice();
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
 * The error for `job` if one of its arguments does not clone (what a failed send of its batch may
 * have met that the encoding could not see), naming its position; null if they all clone.
 */
export function unsendable<W>(job: Job<W>, what: string): TypeError | null {
  const first = (values: ArrayLike<unknown>, where: (i: number) => string): TypeError | null => {
    for (let i = 0; i < values.length; i++) {
      try {
        structuredClone(values[i]);
      } catch (cause) {
        return notCloneable(`${what}: ${where(i)}`, cause);
      }
    }
    return null;
  };
  if (!job.chunked) return first(job.args, (j) => `argument ${j}`);
  const [byColumns, data] = job.args as [number, unknown[][]];
  for (let m = 0; m < data.length; m++) {
    const found = first(
      data[m],
      (i) =>
        byColumns ? `item ${i} of a chunk, argument ${m}` : `item ${m} of a chunk, argument ${i}`,
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
  if (ok && job.chunked) {
    const [values, errors] = value as ChunkWire;
    const result: ChunkResult = {
      values: fromWireColumn(values),
      errors: errors && new Map(errors.map(([k, e]) => [k, fromWire(e)])),
    };
    job.future._setResult(result);
  } else if (ok) job.future._setResult(value);
  else job.future._setException(value);
}
