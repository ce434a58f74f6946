/**
 * `Pool` (CPython's `multiprocessing.Pool`), on the executor's machinery; its pending results are
 * `AsyncResult`s (async_result.ts).
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { CancelledError, ProcessError } from "../core/errors.ts";
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import type { Future } from "../futures/future.ts";
import { methodFrom } from "../handles/handle.ts";
import { cpuCount } from "../process/current.ts";
import type { ContextLike } from "../state/start_method.ts";
import { checkModuleOption } from "../targets/task.ts";
import { AsyncResult } from "./async_result.ts";
import {
  type AnyFn,
  type Calls,
  checkChunksize,
  rowCalls,
  submitCalls,
  unpackResult,
  Zip,
  zipCalls,
} from "./calls.ts";
import { checkRun, checkWorkers, type RunOptions } from "./executor.ts";
import type { TaskLimits } from "./jobs.ts";
import { type Feeding, LazyResults, type TaskFeed, unorderedResults } from "./lazy_results.ts";
import { WorkerPool } from "./worker_pool.ts";

export { AsyncResult };

/**
 * Options of `new Pool()`.
 * @example
 * ```ts
 * import { Pool } from "multiproc";
 * const pool = new Pool({ processes: 2, context: "process", maxTasksPerChild: 50 });
 * pool.close();
 * await pool.join();
 * ```
 */
export interface PoolOptions {
  /** Number of workers (default: `cpuCount()`). */
  processes?: number;
  /** Runs in each worker before its first task (exported, like a target). */
  initializer?: AnyFn;
  /** Arguments of `initializer`. */
  initargs?: unknown[];
  /** A worker ends after this many tasks and a fresh one takes its place. */
  maxTasksPerChild?: number;
  /** A `Context` or a start method name (default: the current default). */
  context?: ContextLike | StartMethod;
  /** The module that exports the functions given (`import.meta.url`, a URL or a path). */
  module?: string | URL;
}

/**
 * Options of `Pool.map` and its kin, given in place of `chunksize`: an aborted `signal` cancels
 * what remains (queued tasks are dropped, running ones have their workers replaced) and the call
 * rejects with `CancelledError`.
 * @example
 * ```ts
 * import { Pool, task } from "multiproc";
 * export const double = task(import.meta, (x: number) => 2 * x);
 * await using pool = new Pool({ processes: 2 });
 * const controller = new AbortController();
 * console.log(await pool.map(double, [1, 2, 3], { chunksize: 2, signal: controller.signal })); // [2, 4, 6]
 * ```
 */
export interface PoolMapOptions {
  /** Items per task (as the positional `chunksize`). */
  chunksize?: number;
  /** Cancels what remains of the call when aborted. */
  signal?: AbortSignal;
}

const POOL_MAP_OPTIONS = {
  chunksize: true,
  signal: true,
} as const satisfies OptionNames<PoolMapOptions>;

const POOL_OPTIONS = {
  processes: true,
  initializer: true,
  initargs: true,
  maxTasksPerChild: true,
  context: true,
  module: true,
} as const satisfies OptionNames<PoolOptions>;

/** `imap`'s options: a chunksize of 1 unless given (CPython's default there). */
function oneByDefault(c: number | PoolMapOptions): number | PoolMapOptions {
  return typeof c === "object" && c !== null ? { chunksize: 1, ...c } : c;
}

/**
 * The window of `imap`'s tasks in the pool ahead of the reader: `ITEMS_AHEAD` calls per worker,
 * and at least `TASKS_AHEAD` tasks per worker. Wide enough that tiny calls keep every worker
 * busy as the reader takes results (measured: 1024 one-call tasks ahead for 2 workers run as
 * fast as all of them submitted at once), narrow enough that large items do not pile up.
 */
const ITEMS_AHEAD = 512;
const TASKS_AHEAD = 4;

/** `imap`'s results wait as long as they take (CPython's `next(timeout)` has no equal here). */
const NO_DEADLINE = new Deadline("Pool.imap()", undefined);

/** The default chunksize of `map`: as CPython computes it, about four chunks per worker. */
function defaultChunksize(n: number, workers: number): number {
  return Math.max(1, Math.ceil(n / (workers * 4)));
}

/**
 * A pool of workers (CPython's `multiprocessing.Pool`).
 * @example
 * ```ts
 * import { isMain, Pool } from "multiproc";
 *
 * export function square(x: number) {
 *   return x * x;
 * }
 *
 * if (isMain(import.meta)) {
 *   await using pool = new Pool({ processes: 2 });
 *   console.log(await pool.map(square, [1, 2, 3])); // [1, 4, 9]
 *   for await (const y of pool.imapUnordered(square, [4, 5])) console.log(y);
 * }
 * ```
 */
export class Pool implements AsyncDisposable {
  readonly #pool: WorkerPool;
  readonly #processes: number;
  #state: "run" | "close" | "terminate" = "run";
  /** The `imap`s whose iterables are still being read, as their results are taken. */
  readonly #feedings = new Set<Feeding>();
  /** After `close()`: every `imap`'s iterable read and its tasks submitted; then the pool closes. */
  #closing: Promise<void> | undefined;

  constructor(given?: PoolOptions) {
    const options = checkOptions(given, POOL_OPTIONS, "Pool", "{ processes: 4 }");
    this.#processes = checkWorkers(options.processes ?? cpuCount(), "Pool: processes");
    if (options.maxTasksPerChild !== undefined) {
      checkWorkers(options.maxTasksPerChild, "Pool: maxTasksPerChild");
    }
    if (options.initializer !== undefined && typeof options.initializer !== "function") {
      throw new TypeError("Pool: initializer must be a function");
    }
    this.#pool = new WorkerPool({
      method: methodFrom(options.context, new.target),
      maxWorkers: this.#processes,
      initializer: options.initializer,
      initargs: options.initargs,
      maxTasksPerChild: options.maxTasksPerChild,
      module: checkModuleOption(options.module, "Pool"),
      what: "Pool",
      workerName: "PoolWorker",
    });
  }

  #check(what: string): void {
    if (this.#state !== "run") {
      throw new ProcessError(
        `Pool.${what}(): the pool is ${
          this.#state === "close" ? "closed" : "terminated"
        }: it takes no more tasks; give them to a new Pool.`,
      );
    }
    if (this.#pool.broken) throw this.#pool.broken;
  }

  #calls(
    fn: AnyFn,
    calls: Calls,
    chunksize: number | PoolMapOptions | undefined,
    what: string,
  ): { futures: Future<unknown>[]; chunked: boolean } {
    const { size, limits } = this.#mapOptions(fn, chunksize, what, calls.n);
    return { futures: submitCalls(this.#pool, fn, calls, size, limits), chunked: size > 1 };
  }

  /**
   * A map's function and options checked: its chunksize (by default about four chunks per
   * worker of `n` calls) and what stops its tasks.
   */
  #mapOptions(
    fn: AnyFn,
    chunksize: number | PoolMapOptions | undefined,
    what: string,
    n: number,
  ): { size: number; limits: TaskLimits | undefined } {
    if (typeof fn !== "function") {
      throw new TypeError(`Pool.${what}(): fn must be a function, got ${shown(fn)}`);
    }
    const options = typeof chunksize === "object" && chunksize !== null
      ? checkOptions(chunksize, POOL_MAP_OPTIONS, `Pool.${what}()`, "{ chunksize: 100, signal }")
      : { chunksize };
    const size = options.chunksize === undefined
      ? defaultChunksize(n, this.#processes)
      : checkChunksize(options.chunksize, `Pool.${what}()`);
    const { signal } = options as PoolMapOptions;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Pool.${what}(): signal must be an AbortSignal (controller.signal), got ${shown(signal)}`,
      );
    }
    return { size, limits: signal ? { signal } : undefined };
  }

  /**
   * Where `imap`'s and `imapUnordered`'s tasks go: the iterable is read as results are taken,
   * at most `ahead` tasks in the pool for them (enough to keep every worker busy).
   */
  #feed(
    fn: AnyFn,
    chunksize: number | PoolMapOptions,
    what: string,
  ): { feed: TaskFeed; size: number; track: (feeding: Feeding) => void } {
    const { size, limits } = this.#mapOptions(fn, oneByDefault(chunksize), what, 0);
    const pool = this.#pool;
    let feeding: Feeding | undefined;
    const feed: TaskFeed = {
      what: `Pool.${what}()`,
      ahead: this.#processes * Math.max(TASKS_AHEAD, Math.ceil(ITEMS_AHEAD / size)),
      keepsAlive: true,
      submit: (cols, chunked, first) => {
        if (this.#state === "terminate") {
          throw new CancelledError(`Pool.${what}(): the pool was terminated`);
        }
        return chunked
          ? pool.submit(fn, [], { kind: "cols", cols, first }, limits)
          : pool.submit(fn, [cols[0][0]], undefined, limits);
      },
      unpack: (result) => {
        const { values, error } = unpackResult(result, true);
        return error ? { values, failed: true, error } : { values, failed: false };
      },
      ended: () => void (feeding && this.#feedings.delete(feeding)),
    };
    const track = (f: Feeding) => void this.#feedings.add(feeding = f);
    return { feed, size, track };
  }

  #all<R>(futures: Future<unknown>[], chunked: boolean): Promise<R[]> {
    return Promise.all(futures).then((parts) => {
      if (!chunked) return parts as R[];
      const out: R[] = [];
      for (const part of parts) {
        const { values, error } = unpackResult(part, chunked);
        if (error) throw error;
        for (const v of values) out.push(v as R);
      }
      return out;
    });
  }

  /** `fn(...args)` in a worker (`options` as for `applyAsync`). */
  apply<A extends unknown[], R>(
    fn: (...args: A) => R,
    args?: A,
    options?: RunOptions,
  ): Promise<Awaited<R>> {
    return this.#apply(fn, args, options, "apply").get();
  }

  /**
   * `fn(...args)` in a worker, as an `AsyncResult`. An aborted `signal` drops the task if queued
   * or kills its worker if running (`CancelledError`; the pool goes on); past `timeout` ms from
   * its start, the same with `TimeoutError`.
   */
  applyAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    args?: A,
    options: RunOptions = {},
  ): AsyncResult<Awaited<R>> {
    return this.#apply(fn, args, options, "applyAsync");
  }

  #apply<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A | undefined,
    options: RunOptions = {},
    what: string,
  ): AsyncResult<Awaited<R>> {
    this.#check(what);
    const timeout = checkRun(`Pool.${what}()`, fn, args ?? [], options);
    const limits = { signal: options.signal, timeout };
    const future = this.#pool.submit<Awaited<R>>(fn as AnyFn, [...args ?? []], undefined, limits);
    return new AsyncResult(Promise.resolve(future));
  }

  /** `fn(x)` for each `x`, results in order. */
  map<T, R>(
    fn: (x: T) => R,
    iterable: Iterable<T>,
    chunksize?: number | PoolMapOptions,
  ): Promise<Awaited<R>[]> {
    return this.#map(fn, iterable, chunksize, "map").get();
  }

  /** `map` as an `AsyncResult`. */
  mapAsync<T, R>(
    fn: (x: T) => R,
    iterable: Iterable<T>,
    chunksize?: number | PoolMapOptions,
  ): AsyncResult<Awaited<R>[]> {
    return this.#map(fn, iterable, chunksize, "mapAsync");
  }

  #map<T, R>(
    fn: (x: T) => R,
    iterable: Iterable<T>,
    chunksize: number | PoolMapOptions | undefined,
    what: string,
  ): AsyncResult<Awaited<R>[]> {
    this.#check(what);
    const calls = zipCalls([iterable], `Pool.${what}()`);
    const { futures, chunked } = this.#calls(fn as AnyFn, calls, chunksize, what);
    return new AsyncResult(this.#all(futures, chunked));
  }

  /** `fn(...args)` for each `args`, results in order. */
  starmap<A extends unknown[], R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    chunksize?: number | PoolMapOptions,
  ): Promise<Awaited<R>[]> {
    return this.#starmap(fn, iterable, chunksize, "starmap").get();
  }

  /** `starmap` as an `AsyncResult`. */
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    chunksize?: number | PoolMapOptions,
  ): AsyncResult<Awaited<R>[]> {
    return this.#starmap(fn, iterable, chunksize, "starmapAsync");
  }

  #starmap<A extends unknown[], R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    chunksize: number | PoolMapOptions | undefined,
    what: string,
  ): AsyncResult<Awaited<R>[]> {
    this.#check(what);
    const calls = rowCalls(iterable, `Pool.${what}()`);
    const { futures, chunked } = this.#calls(fn as AnyFn, calls, chunksize, what);
    return new AsyncResult(this.#all(futures, chunked));
  }

  /**
   * `fn(x)` for each `x`, as an async iterable in order. Lazy, as CPython's: the iterable is read
   * as results are taken (a window of tasks ahead keeps the workers busy), so an endless one
   * works; the first tasks are submitted at once.
   */
  imap<T, R>(
    fn: (x: T) => R,
    iterable: Iterable<T>,
    chunksize: number | PoolMapOptions = 1,
  ): AsyncIterableIterator<Awaited<R>> {
    this.#check("imap");
    const zip = new Zip([iterable], "Pool.imap()");
    const { feed, size, track } = this.#feed(fn as AnyFn, chunksize, "imap");
    const results = new LazyResults<Awaited<R>>(feed, zip, size, NO_DEADLINE);
    track(results);
    return results.start();
  }

  /** `fn(x)` for each `x`, as an async iterable in completion order; lazy as `imap`. */
  imapUnordered<T, R>(
    fn: (x: T) => R,
    iterable: Iterable<T>,
    chunksize: number | PoolMapOptions = 1,
  ): AsyncGenerator<Awaited<R>> {
    this.#check("imapUnordered");
    const zip = new Zip([iterable], "Pool.imapUnordered()");
    const { feed, size, track } = this.#feed(fn as AnyFn, chunksize, "imapUnordered");
    const { results, feeding } = unorderedResults<Awaited<R>>(feed, zip, size);
    track(feeding);
    return results;
  }

  /** No more tasks; the workers end once the submitted ones are done. */
  close(): void {
    if (this.#state === "run") this.#state = "close";
    if (this.#closing) return;
    // The imaps' iterables are read to their end first, as CPython's feeder thread does after
    // close(): join() then waits for all their tasks.
    const feedings = [...this.#feedings].map((f) => f.drain());
    if (feedings.length === 0) {
      this.#closing = Promise.resolve();
      this.#pool.close();
    } else this.#closing = Promise.all(feedings).then(() => this.#pool.close());
  }

  /** Ends the workers now; unfinished tasks fail with `CancelledError`. */
  terminate(): void {
    this.#state = "terminate";
    this.#pool.terminate(new CancelledError("the pool was terminated before this task finished"));
  }

  /** Waits for the workers to end; call `close()` or `terminate()` first. */
  async join(): Promise<void> {
    if (this.#state === "run") {
      throw new ProcessError(
        "Pool.join(): the pool is still running; call close() or terminate() first",
      );
    }
    if (this.#state === "close") {
      await this.#closing;
      await this.#pool.drained();
    }
    await this.#pool.joinWorkers();
  }

  /** `await using pool = new Pool()`: terminates it, as CPython's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.terminate();
    await this.#pool.joinWorkers();
  }

  /** For `console.log`, as CPython's repr: `<Pool state=RUN pool_size=2>`. */
  toString(): string {
    return `<Pool state=${this.#state.toUpperCase()} pool_size=${this.#processes}>`;
  }
}

shownAsText(Pool);
