/**
 * A cluster's `map`: lazy, with backpressure. The iterables are read only as far as the window
 * of tasks ahead allows (so a map over millions of items never has more than that many jobs
 * waiting in Redis), and the results come in input order.
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import type { Future } from "../futures/future.ts";
import { checkChunksize, checkOnProgress } from "../pool/calls.ts";
import { splitMapArgs } from "../pool/executor.ts";
import type { ChunkOutcome } from "./protocol.ts";

/** What `lazyMap` needs from its executor. */
export interface MapSource {
  /** The call, e.g. `ClusterExecutor.map()`, for errors. */
  what: string;
  /** `map`'s arguments: the iterables, then maybe `{ timeout, chunksize, onProgress }`. */
  iterablesAndOptions: unknown[];
  /** How many tasks may be ahead of the one whose results are being read. */
  ahead: number;
  /** Submits the calls `rows` (one task, or a chunk of them when `chunked`). */
  submit(rows: unknown[][], chunked: boolean): Future<unknown>;
}

/** The results of `map`, in input order (its arguments are checked at once). */
export function lazyMap<R>(source: MapSource): AsyncIterableIterator<R> {
  const { what } = source;
  const [iterables, options] = splitMapArgs(source.iterablesAndOptions);
  const chunksize = checkChunksize(options.chunksize ?? 1, what);
  const onProgress = checkOnProgress(options.onProgress, what);
  const deadline = new Deadline(what, options.timeout);
  return results<R>(source, zipLazily(iterables, what), chunksize, deadline, onProgress);
}

async function* results<R>(
  source: MapSource,
  rows: Iterator<unknown[]>,
  chunksize: number,
  deadline: Deadline,
  onProgress: ((done: number) => void) | undefined,
): AsyncIterableIterator<R> {
  const { what } = source;
  const window: Future<unknown>[] = [];
  let done = false;
  /** Items done (returned or failed), for `onProgress`: counted as each job settles. */
  let itemsDone = 0;
  const count = (f: Future<unknown>, items: number) =>
    f.addDoneCallback(() => {
      if (f.cancelled()) return;
      itemsDone += items;
      onProgress!(itemsDone);
    });
  const fill = () => {
    while (!done && window.length < source.ahead) {
      const chunk: unknown[][] = [];
      for (let r = rows.next(); !r.done; r = rows.next()) {
        chunk.push(r.value);
        if (chunk.length === chunksize) break;
      }
      if (chunk.length < chunksize) done = true;
      if (chunk.length) {
        const f = source.submit(chunk, chunksize > 1);
        if (onProgress) count(f, chunk.length);
        window.push(f);
      }
    }
  };
  try {
    fill();
    while (window.length) {
      const f = window[0];
      if (!(await keepAlive(deadline.within(f)))) {
        throw new TimeoutError(`${what}: results not ready within ${deadline.timeout} ms`);
      }
      window.shift();
      const value = await f;
      fill();
      if (chunksize === 1) yield value as R;
      else {
        const { values, errors } = value as ChunkOutcome;
        const failed = new Map(errors);
        for (let k = 0; k < values.length; k++) {
          if (failed.has(k)) throw failed.get(k);
          yield values[k] as R;
        }
      }
    }
  } finally {
    for (const f of window) f.cancel(); // the caller stopped reading, or a task failed
  }
}

/** The calls of `map(fn, ...iterables)`, one argument list at a time (Python's `zip`). */
function zipLazily(iterables: unknown[], what: string): Iterator<unknown[]> {
  if (iterables.length === 0) throw new TypeError(`${what}: give at least one iterable`);
  const its = iterables.map((it, i) => {
    if (typeof (it as Iterable<unknown> | null)?.[Symbol.iterator] !== "function") {
      throw new TypeError(
        `${what}: argument ${i + 1} is not iterable (give arrays, sets, generators or other `
          + `iterables)`,
      );
    }
    return (it as Iterable<unknown>)[Symbol.iterator]();
  });
  return (function*() {
    for (;;) {
      const row: unknown[] = [];
      for (const it of its) {
        const r = it.next();
        if (r.done) return;
        row.push(r.value);
      }
      yield row;
    }
  })();
}
