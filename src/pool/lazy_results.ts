/**
 * A map's results with backpressure: the iterables are read only as far as a window of tasks
 * ahead of the reader allows, so an endless iterable works (Python's `Pool.imap` over
 * `itertools.count()`), and a map over millions of items never holds more than that many tasks.
 * Shared by `Pool.imap`/`imapUnordered` and `ClusterExecutor.map` (whose window bounds the jobs
 * waiting in Redis).
 * @module
 */
import type { Deadline } from "../core/deadline.ts";
import { TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import type { Future } from "../futures/future.ts";
import type { Zip } from "./calls.ts";
import type { Column } from "./columns.ts";

/** What a chunk's task gave: its calls' values up to the first that failed, and that failure. */
export type ChunkValues =
  | { values: Column; failed: false }
  | { values: Column; failed: true; error: unknown };

/** Where a lazy map's tasks go, and how a chunk's result reads. */
export interface TaskFeed {
  /** The call, e.g. `Pool.imap()`, for errors. */
  readonly what: string;
  /** How many tasks may be ahead of the one whose results are being read. */
  readonly ahead: number;
  /**
   * The executor keeps the program alive while it has tasks (a local pool does): a wait for a
   * result needs no timer of its own to keep it alive.
   */
  readonly keepsAlive: boolean;
  /**
   * Submits calls given as the columns of their arguments (one array per iterable): one task, or
   * a chunk of them when `chunked`. `first`: the index of the first call among all.
   */
  submit(columns: unknown[][], chunked: boolean, first: number): Future<unknown>;
  /** A chunk task's result, read. */
  unpack(result: unknown): ChunkValues;
  /** Called once the results have ended (all taken, failed, or the caller stopped). */
  ended?(): void;
}

/** A map's results being read lazily, as a pool sees them. */
export interface Feeding {
  /**
   * Reads the rest of the iterables without waiting for the reader, a window's worth of tasks
   * per turn of the event loop (the pool was closed: its `join()` waits for every task, as
   * CPython's, whose feeder thread submits them all). Resolves once all are submitted, or the
   * results have ended.
   */
  drain(): Promise<void>;
}

/**
 * Reads the iterables a chunk at a time, submitting each chunk as a task (handed to `onTask`):
 * in bursts up to `ahead` tasks in the window. An iterable that throws, or a submission refused,
 * ends the reading, its error kept for when the tasks before it have given their results.
 */
class Reader implements Feeding {
  readonly #feed: TaskFeed;
  readonly #zip: Zip;
  readonly #chunksize: number;
  readonly #onTask: (task: Future<unknown>, calls: number) => void;
  /** Calls submitted so far: the index of the next one. */
  #calls = 0;
  /** The iterables are exhausted, or threw (`error`), or the reading was stopped. */
  ended = false;
  error: { thrown: unknown } | undefined;

  constructor(
    feed: TaskFeed,
    zip: Zip,
    chunksize: number,
    onTask: (task: Future<unknown>, calls: number) => void,
  ) {
    this.#feed = feed;
    this.#zip = zip;
    this.#chunksize = chunksize;
    this.#onTask = onTask;
  }

  /**
   * Once `inWindow` tasks are down to half of `ahead` (or at the start), submits tasks until
   * `ahead` are in the window or the iterables have no more rows: in bursts, which the pool sends
   * together, not one task per result taken.
   */
  fill(inWindow: number): void {
    const { ahead } = this.#feed;
    if (inWindow > ahead >> 1) return;
    for (let n = inWindow; n < ahead && this.#next(); n++);
  }

  async drain(): Promise<void> {
    while (!this.ended) {
      for (let n = 0; n < this.#feed.ahead && this.#next(); n++);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Submits the next chunk; false once there is none. */
  #next(): boolean {
    if (this.ended) return false;
    try {
      const columns = this.#zip.take(this.#chunksize);
      const n = columns[0].length;
      if (this.#zip.failure) {
        // The calls read before the iterable threw go; its error waits for their results.
        this.ended = true;
        this.error = this.#zip.failure;
      } else if (n < this.#chunksize) this.ended = true;
      if (n === 0) return false;
      const task = this.#feed.submit(columns, this.#chunksize > 1, this.#calls);
      this.#calls += n;
      this.#onTask(task, n);
      return !this.ended;
    } catch (thrown) {
      this.ended = true;
      this.error = { thrown };
      return false;
    }
  }
}

/**
 * The results in input order: an async iterator written out rather than a generator, so that a
 * value already at hand (the rest of a chunk) is handed over with one settled promise -- a
 * generator costs several promises and turns per item, most of a map's time for small items.
 * Tasks are submitted from `start()` or the first `next()` on; the tasks still ahead are
 * cancelled once the caller stops reading (`return()`), a task fails, or the deadline passes. An
 * iterable that throws ends the results with its error after the items read before it.
 */
export class LazyResults<R> implements AsyncIterableIterator<R>, Feeding {
  readonly #feed: TaskFeed;
  readonly #reader: Reader;
  readonly #chunksize: number;
  readonly #deadline: Deadline;
  readonly #onProgress: ((done: number) => void) | undefined;
  readonly #window: Future<unknown>[] = [];
  #started = false;
  #finished = false;
  /** The values of the chunk being handed out, from `#k` on, then maybe its failure. */
  #values: Column = [];
  #k = 0;
  #failure: { error: unknown } | undefined;
  /** Items done (returned or failed), for `onProgress`: counted as each task settles. */
  #itemsDone = 0;
  /** A `next()` that waits for a task: the calls after it wait their turn. */
  #waiting: Promise<IteratorResult<R>> | undefined;

  constructor(
    feed: TaskFeed,
    zip: Zip,
    chunksize: number,
    deadline: Deadline,
    onProgress?: (done: number) => void,
  ) {
    this.#feed = feed;
    this.#reader = new Reader(feed, zip, chunksize, (task, calls) => {
      if (this.#onProgress) this.#count(task, calls);
      this.#window.push(task);
    });
    this.#chunksize = chunksize;
    this.#deadline = deadline;
    this.#onProgress = onProgress;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Submits the first window of tasks now, before the first `next()`. */
  start(): this {
    if (!this.#started) {
      this.#started = true;
      this.#fill();
    }
    return this;
  }

  next(): Promise<IteratorResult<R>> {
    if (this.#waiting) {
      const next = () => this.next();
      return this.#waiting.then(next, next);
    }
    if (this.#k < this.#values.length) {
      return Promise.resolve({ value: this.#values[this.#k++] as R, done: false });
    }
    if (this.#failure) {
      const { error } = this.#failure;
      this.#finish();
      return Promise.reject(error);
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
      this.start();
      for (;;) {
        const f = this.#window[0];
        if (!f) {
          if (this.#reader.error) throw this.#reader.error.thrown;
          this.#finish();
          return { value: undefined, done: true };
        }
        const watched = this.#deadline.at !== undefined || !this.#feed.keepsAlive;
        if (watched && !f.done() && !(await keepAlive(this.#deadline.within(f)))) {
          throw new TimeoutError(
            `${this.#feed.what}: results not ready within ${this.#deadline.timeout} ms`,
          );
        }
        this.#window.shift();
        const value = await f;
        this.#fill();
        if (this.#chunksize === 1) return { value: value as R, done: false };
        const chunk = this.#feed.unpack(value);
        this.#values = chunk.values;
        this.#k = 0;
        this.#failure = chunk.failed ? { error: chunk.error } : undefined;
        if (chunk.values.length > 0) {
          this.#k = 1;
          return { value: chunk.values[0] as R, done: false };
        }
        if (chunk.failed) throw chunk.error;
      }
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  #fill(): void {
    this.#reader.fill(this.#window.length);
  }

  drain(): Promise<void> {
    this.start();
    return this.#reader.drain();
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
    this.#reader.ended = true;
    this.#values = [];
    this.#k = 0;
    this.#failure = undefined;
    for (const f of this.#window.splice(0)) f.cancel();
    this.#feed.ended?.();
  }
}

/**
 * The results in completion order (Python's `imap_unordered`), with the same window: a chunk's
 * values come together, then its failure if a call failed; stopping early cancels the tasks
 * still ahead. An iterable that throws ends the results with its error once the tasks submitted
 * before it have given theirs. The first window is submitted at once.
 */
export function unorderedResults<R>(
  feed: TaskFeed,
  zip: Zip,
  chunksize: number,
): { results: AsyncGenerator<R>; feeding: Feeding } {
  const running = new Set<Future<unknown>>();
  const done: Future<unknown>[] = [];
  let wake: (() => void) | undefined;
  const reader = new Reader(feed, zip, chunksize, (f) => {
    running.add(f);
    f.addDoneCallback(() => (done.push(f), wake?.()));
  });
  reader.fill(0);
  const results = (async function*() {
    try {
      while (running.size > 0) {
        while (done.length === 0) {
          const woken = new Promise<void>((r) => (wake = r));
          await (feed.keepsAlive ? woken : keepAlive(woken));
          wake = undefined;
        }
        const f = done.shift()!;
        running.delete(f);
        const result = await f;
        reader.fill(running.size);
        if (chunksize === 1) {
          yield result as R;
          continue;
        }
        const chunk = feed.unpack(result);
        for (const v of chunk.values) yield v as R;
        if (chunk.failed) throw chunk.error;
      }
      if (reader.error) throw reader.error.thrown;
    } finally {
      reader.ended = true;
      for (const f of running) f.cancel();
      feed.ended?.();
    }
  })();
  return { results, feeding: reader };
}
