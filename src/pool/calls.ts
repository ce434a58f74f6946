/**
 * Turning iterables into calls, and calls into results in input order: shared by
 * `ProcessPoolExecutor.map` and the `Pool` maps.
 * @module
 */
import type { Deadline } from "../core/deadline.ts";
import { TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { shown } from "../core/options.ts";
import type { Future } from "../futures/future.ts";
import type { Column } from "./columns.ts";
import type { TaskLimits } from "./jobs.ts";
import type { ChunkResult } from "./protocol.ts";
import type { WorkerPool } from "./worker_pool.ts";

// deno-lint-ignore no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

/**
 * Calls that travel as one task: as columns (`cols[j][k]` is argument j of call k: cheap to
 * clone) when every call has the same number of arguments, else as rows. `first` is the index
 * of the first call among all, for error messages.
 */
export type Chunk =
  | { kind: "cols"; cols: unknown[][]; first: number }
  | { kind: "rows"; rows: unknown[][]; first: number };

/** Calls of one function: by columns (`cols[j][k]`: argument j of call k) or by rows. */
export type Calls = { n: number; cols: unknown[][] } | { n: number; rows: unknown[][] };

/**
 * Zips iterables like Python's `zip`, as columns: it stops at the shortest, reading no item past
 * it (an endless iterable beside a finite one gives as many calls as the finite one has, as
 * `zip(xs, itertools.repeat(10))`).
 */
export function zipCalls(iterables: unknown[], what: string): Calls {
  if (iterables.length > 0 && iterables.every(Array.isArray)) {
    const n = Math.min(...iterables.map((c) => c.length));
    return { n, cols: iterables.map((c) => (c.length === n ? c : c.slice(0, n))) };
  }
  const zip = new Zip(iterables, what);
  const cols = zip.take(Infinity);
  if (zip.failure) throw zip.failure.thrown;
  return { n: cols[0].length, cols };
}

/** Calls given as argument lists (`starmap`). */
export function rowCalls(iterable: Iterable<unknown>, what: string): Calls {
  const rows = [...iterable].map((a, i) => {
    if (!Array.isArray(a)) throw new TypeError(`${what}: item ${i} is not an array of arguments`);
    return a;
  });
  return { n: rows.length, rows };
}

/** Checks a chunksize: an integer of at least 1. */
export function checkChunksize(chunksize: unknown, what: string): number {
  if (!Number.isInteger(chunksize) || (chunksize as number) < 1) {
    throw new RangeError(`${what}: chunksize must be an integer >= 1, got ${shown(chunksize)}`);
  }
  return chunksize as number;
}

/** Submits `calls`, one task per call or per chunk of `chunksize` calls. */
export function submitCalls(
  pool: WorkerPool,
  fn: AnyFn,
  calls: Calls,
  chunksize: number,
  limits?: TaskLimits,
): Future<unknown>[] {
  const futures: Future<unknown>[] = new Array(Math.ceil(calls.n / chunksize));
  if ("cols" in calls) {
    const { cols } = calls;
    if (chunksize === 1) {
      for (let k = 0; k < calls.n; k++) {
        futures[k] = pool.submit(
          fn,
          cols.map((c) => c[k]),
          undefined,
          limits,
        );
      }
      return futures;
    }
    for (let first = 0, i = 0; first < calls.n; first += chunksize, i++) {
      const part = cols.map((c) => c.slice(first, first + chunksize));
      futures[i] = pool.submit(fn, [], { kind: "cols", cols: part, first }, limits);
    }
    return futures;
  }
  const { rows } = calls;
  if (chunksize === 1) return rows.map((args) => pool.submit(fn, [...args], undefined, limits));
  for (let first = 0, i = 0; first < calls.n; first += chunksize, i++) {
    futures[i] = pool.submit(fn, [], {
      kind: "rows",
      rows: rows.slice(first, first + chunksize),
      first,
    }, limits);
  }
  return futures;
}

/** Checks a map's `onProgress` option: a function, or undefined. */
export function checkOnProgress(
  onProgress: unknown,
  what: string,
): ((done: number) => void) | undefined {
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(`${what}: onProgress must be a function, got ${shown(onProgress)}`);
  }
  return onProgress as ((done: number) => void) | undefined;
}

/**
 * Calls `onProgress(done)` as `futures` settle, with how many items (calls) are done: each task
 * counts its calls (`chunksize`, the last one what is left of `n`), whether they returned or
 * failed; a cancelled task counts none.
 */
export function countDone(
  futures: Future<unknown>[],
  n: number,
  chunksize: number,
  onProgress: ((done: number) => void) | undefined,
): void {
  if (onProgress === undefined) return;
  let done = 0;
  for (let i = 0; i < futures.length; i++) {
    const f = futures[i];
    const items = Math.min(chunksize, n - i * chunksize);
    f.addDoneCallback(() => {
      if (f.cancelled()) return;
      done += items;
      onProgress(done);
    });
  }
}

/**
 * What one task's result holds, in call order: the values of its calls up to the first that
 * failed, and that call's error (undefined if none failed). An unchunked task's result is the
 * value of its one call; a chunked task's is a `ChunkResult`.
 */
export function unpackResult(
  result: unknown,
  chunked: boolean,
): { values: Column; error: Error | undefined } {
  if (!chunked) return { values: [result], error: undefined };
  const { values, errors } = result as ChunkResult;
  if (!errors) return { values, error: undefined };
  let first = values.length;
  for (const k of errors.keys()) first = Math.min(first, k);
  return { values: values.slice(0, first), error: errors.get(first) };
}

/**
 * The results of `futures` in order, as an async iterator: an error is thrown when iteration
 * reaches its item; stopping early (or an error) cancels the tasks not yet started. Results not
 * ready by `deadline` (set when the map was called) throw `TimeoutError`.
 */
export function orderedResults<R>(
  futures: Future<unknown>[],
  chunked: boolean,
  deadline?: Deadline,
): AsyncIterableIterator<R> {
  let index = 0;
  let values: Column = [];
  let error: Error | undefined;
  let b = 0;
  let closed = false;
  const close = () => {
    closed = true;
    for (let i = index; i < futures.length; i++) futures[i].cancel();
  };
  /** The next item once its task's result is in (the first of each task's values). */
  const fetch = async (): Promise<IteratorResult<R>> => {
    if (closed) return { value: undefined, done: true };
    try {
      while (b === values.length) {
        if (error) throw error;
        if (index === futures.length) return close(), { value: undefined, done: true };
        ({ values, error } = unpackResult(await resultOf(futures[index++], deadline), chunked));
        b = 0;
      }
      return { value: values[b++] as R, done: false };
    } catch (thrown) {
      close();
      throw thrown;
    }
  };
  const iterator: AsyncIterableIterator<R> = {
    // A value of a task already in hand is handed over without an async function's machinery:
    // a chunk's items cost one settled promise each, not an async call each.
    next(): Promise<IteratorResult<R>> {
      if (!closed && b < values.length) {
        return Promise.resolve({ value: values[b++] as R, done: false });
      }
      return fetch();
    },
    return(): Promise<IteratorResult<R>> {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * The result of `f`, waiting until `deadline` at most. Awaited as a promise, not through
 * `f.result()`: no timer and no deadline of its own per task (the pool keeps the program alive
 * while it has tasks).
 */
async function resultOf(f: Future<unknown>, deadline: Deadline | undefined): Promise<unknown> {
  if (deadline?.at !== undefined && !f.done() && !(await keepAlive(deadline.within(f)))) {
    throw new TimeoutError(
      `${deadline.what}: results not ready within ${deadline.timeout} ms of the call`,
    );
  }
  return await f;
}

/**
 * The calls of `map(fn, ...iterables)` (Python's `zip`), taken a chunk at a time as the columns
 * of their arguments: no array per call, no generator step per call.
 */
export class Zip {
  readonly #its: Iterator<unknown>[];
  #ended = false;
  /** What an iterable threw, once one has: the calls end there. */
  failure: { thrown: unknown } | undefined;

  constructor(iterables: unknown[], what: string) {
    if (iterables.length === 0) throw new TypeError(`${what}: give at least one iterable`);
    this.#its = iterables.map((it, i) => {
      if (typeof (it as Iterable<unknown> | null)?.[Symbol.iterator] !== "function") {
        throw new TypeError(
          `${what}: argument ${i + 1} is not iterable (give arrays, sets, generators or other `
            + `iterables; collect an async iterable into an array first)`,
        );
      }
      return (it as Iterable<unknown>)[Symbol.iterator]();
    });
  }

  /**
   * Up to `n` more calls: one array per iterable, of `n` items or fewer once one has ended. An
   * iterable that throws ends the calls: those read before it are returned, its error is kept
   * in `failure` and thrown by the next `take()`.
   */
  take(n: number): unknown[][] {
    if (this.failure) throw this.failure.thrown;
    const its = this.#its;
    const columns = its.map((): unknown[] => []);
    try {
      if (its.length === 1) {
        const [it] = its, [column] = columns;
        while (!this.#ended && column.length < n) {
          const r = it.next();
          if (r.done) this.#ended = true;
          else column.push(r.value);
        }
        return columns;
      }
      for (let k = 0; k < n && !this.#ended; k++) {
        for (let j = 0; j < its.length; j++) {
          const r = its[j].next();
          if (r.done) {
            // No call without every argument: drop this call's items taken so far.
            for (let i = 0; i < j; i++) columns[i].pop();
            this.#ended = true;
            break;
          }
          columns[j].push(r.value);
        }
      }
    } catch (thrown) {
      this.#ended = true;
      this.failure = { thrown };
      const whole = Math.min(...columns.map((c) => c.length));
      for (const c of columns) c.length = whole;
    }
    return columns;
  }
}
