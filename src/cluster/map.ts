/**
 * A cluster's `map`: lazy, with backpressure. The iterables are read only as far as the window
 * of tasks ahead allows (so a map over millions of items never has more than that many jobs
 * waiting in Redis), and the results come in input order.
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import type { Future } from "../futures/future.ts";
import { checkChunksize, checkOnProgress, Zip } from "../pool/calls.ts";
import { splitMapArgs } from "../pool/executor.ts";
import { type ChunkValues, LazyResults } from "../pool/lazy_results.ts";
import type { ChunkOutcome } from "./protocol.ts";

/** What `lazyMap` needs from its executor. */
export interface MapSource {
  /** The call, e.g. `ClusterExecutor.map()`, for errors. */
  what: string;
  /** `map`'s arguments: the iterables, then maybe `{ timeout, chunksize, onProgress }`. */
  iterablesAndOptions: unknown[];
  /** How many tasks may be ahead of the one whose results are being read. */
  ahead: number;
  /**
   * Submits calls, given as the columns of their arguments (one array per iterable): one task,
   * or a chunk of them when `chunked`.
   */
  submit(columns: unknown[][], chunked: boolean): Future<unknown>;
}

/** The results of `map`, in input order (its arguments are checked at once). */
export function lazyMap<R>(source: MapSource): AsyncIterableIterator<R> {
  const { what } = source;
  const [iterables, options] = splitMapArgs(source.iterablesAndOptions, what);
  const chunksize = checkChunksize(options.chunksize ?? 1, what);
  const onProgress = checkOnProgress(options.onProgress, what);
  const deadline = new Deadline(what, options.timeout);
  const { ahead, submit } = source;
  const feed = { what, ahead, keepsAlive: false, submit, unpack: chunkValues };
  return new LazyResults<R>(feed, new Zip(iterables, what), chunksize, deadline, onProgress);
}

/** A chunk job's outcome: its values up to the first call that failed, and that call's error. */
function chunkValues(result: unknown): ChunkValues {
  const { values, errors } = result as ChunkOutcome;
  if (errors.length === 0) return { values, failed: false };
  const [first, error] = errors.reduce((a, b) => (b[0] < a[0] ? b : a));
  return { values: values.slice(0, first), failed: true, error };
}
