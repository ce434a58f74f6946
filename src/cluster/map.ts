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
import { checkChunksize, checkOnProgress, Zip } from "../pool/calls.ts";
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
  return new Results<R>(source, new Zip(iterables, what), chunksize, deadline, onProgress);
}

/**
 * The results of `map`: an async iterator written out rather than a generator, so that a value
 * already at hand (the rest of a chunk) is handed over with one settled promise -- a generator
 * costs several promises and turns per item, most of a map's time in the client for small items.
 * Nothing is submitted before the first `next()`; the tasks still ahead are cancelled once the
 * caller stops reading (`return()`), a task fails, or the deadline passes.
 */
class Results<R> implements AsyncIterableIterator<R> {
  readonly #source: MapSource;
  readonly #zip: Zip;
  readonly #chunksize: number;
  readonly #deadline: Deadline;
  readonly #onProgress: ((done: number) => void) | undefined;
  readonly #window: Future<unknown>[] = [];
  /** The iterables are exhausted. */
  #read = false;
  #started = false;
  #finished = false;
  /** The values of the chunk being handed out, from `#k` on; `#failed`: its calls' errors. */
  #values: unknown[] = [];
  #k = 0;
  #failed: Map<number, unknown> | null = null;
  /** Items done (returned or failed), for `onProgress`: counted as each job settles. */
  #itemsDone = 0;
  /** A `next()` that waits for a task: the calls after it wait their turn. */
  #waiting: Promise<IteratorResult<R>> | undefined;

  constructor(
    source: MapSource,
    zip: Zip,
    chunksize: number,
    deadline: Deadline,
    onProgress: ((done: number) => void) | undefined,
  ) {
    this.#source = source;
    this.#zip = zip;
    this.#chunksize = chunksize;
    this.#deadline = deadline;
    this.#onProgress = onProgress;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    if (this.#waiting) {
      const next = () => this.next();
      return this.#waiting.then(next, next);
    }
    if (this.#k < this.#values.length) {
      const k = this.#k++;
      if (this.#failed?.has(k)) {
        this.#finish();
        return Promise.reject(this.#failed.get(k));
      }
      return Promise.resolve({ value: this.#values[k] as R, done: false });
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    const waiting = this.#advance();
    this.#waiting = waiting;
    const clear = () => {
      if (this.#waiting === waiting) this.#waiting = undefined;
    };
    waiting.then(clear, clear);
    return waiting;
  }

  return(): Promise<IteratorResult<R>> {
    const done = (): IteratorResult<R> => {
      this.#finish();
      return { value: undefined, done: true };
    };
    return this.#waiting ? this.#waiting.then(done, done) : Promise.resolve(done());
  }

  /** Waits for the next task's result (submitting more as the window allows). */
  async #advance(): Promise<IteratorResult<R>> {
    try {
      if (!this.#started) {
        this.#started = true;
        this.#fill();
      }
      for (;;) {
        const f = this.#window[0];
        if (!f) {
          this.#finish();
          return { value: undefined, done: true };
        }
        if (!(await keepAlive(this.#deadline.within(f)))) {
          throw new TimeoutError(
            `${this.#source.what}: results not ready within ${this.#deadline.timeout} ms`,
          );
        }
        this.#window.shift();
        const value = await f;
        this.#fill();
        if (this.#chunksize === 1) return { value: value as R, done: false };
        const { values, errors } = value as ChunkOutcome;
        this.#values = values;
        this.#k = 0;
        this.#failed = errors.length ? new Map(errors) : null;
        if (values.length === 0) continue;
        this.#k = 1;
        if (this.#failed?.has(0)) throw this.#failed.get(0);
        return { value: values[0] as R, done: false };
      }
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  /** Submits tasks while fewer than `ahead` are in the window and the iterables have rows. */
  #fill(): void {
    const source = this.#source;
    while (!this.#read && this.#window.length < source.ahead) {
      const columns = this.#zip.take(this.#chunksize);
      const n = columns[0].length;
      if (n < this.#chunksize) this.#read = true;
      if (n) {
        const f = source.submit(columns, this.#chunksize > 1);
        if (this.#onProgress) this.#count(f, n);
        this.#window.push(f);
      }
    }
  }

  #count(f: Future<unknown>, items: number): void {
    f.addDoneCallback(() => {
      if (f.cancelled()) return;
      this.#itemsDone += items;
      this.#onProgress!(this.#itemsDone);
    });
  }

  /** No more results: the tasks still ahead are cancelled (the caller stopped, or one failed). */
  #finish(): void {
    this.#finished = true;
    this.#read = true;
    this.#values = [];
    this.#k = 0;
    for (const f of this.#window.splice(0)) f.cancel();
  }
}
