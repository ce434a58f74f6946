/**
 * `ProcessPoolExecutor` (CPython's `concurrent.futures.ProcessPoolExecutor`).
 * @module
 */
import { checkTimeout, Deadline } from "../core/deadline.ts";
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import type { Future } from "../futures/future.ts";
import { methodFrom } from "../handles/handle.ts";
import { cpuCount } from "../process/current.ts";
import type { ContextLike } from "../state/start_method.ts";
import { checkModuleOption } from "../targets/task.ts";
import {
  type AnyFn,
  checkChunksize,
  checkOnProgress,
  countDone,
  orderedResults,
  submitCalls,
  zipCalls,
} from "./calls.ts";
import { WorkerPool } from "./worker_pool.ts";

/**
 * Options of `new ProcessPoolExecutor()`.
 * @example
 * ```ts
 * import { ProcessPoolExecutor } from "multiproc";
 * const pool = new ProcessPoolExecutor({ maxWorkers: 4, context: "thread", maxTasksPerChild: 100 });
 * await pool.shutdown();
 * ```
 */
export interface ExecutorOptions {
  /** How many workers at most (default: `cpuCount()`). */
  maxWorkers?: number;
  /** A `Context` or a start method name (default: the current default). */
  context?: ContextLike | StartMethod;
  /** Runs in each worker before its first task (exported, like a target). */
  initializer?: AnyFn;
  /** Arguments of `initializer`. */
  initargs?: unknown[];
  /** A worker ends after this many tasks and a fresh one takes its place. */
  maxTasksPerChild?: number;
  /** The module that exports the functions submitted (`import.meta.url`, a URL or a path). */
  module?: string | URL;
  /** A time limit in milliseconds for every task, as `run()`'s `timeout` (none by default). */
  taskTimeout?: number;
}

/**
 * Options of `run()`: what may stop the task.
 * @example
 * ```ts
 * import { isMain, ProcessPoolExecutor, sleep, task } from "multiproc";
 * export const nap = task(import.meta, (ms: number) => sleep(ms));
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
 *   const controller = new AbortController();
 *   const f = pool.run(nap, [60_000], { signal: controller.signal, timeout: 5000 });
 *   controller.abort(); // f rejects with CancelledError; the worker is replaced
 *   await f.exception().catch(() => {});
 * }
 * ```
 */
export interface RunOptions {
  /** Aborting it drops the task if queued, or kills its worker if running: `CancelledError`. */
  signal?: AbortSignal;
  /**
   * Milliseconds the task may run, from when its worker starts it (the worker's first load of
   * the function's module is not counted, but bounded by the limit or 5 s, whichever is longer):
   * past them, as `signal`, `TimeoutError`.
   */
  timeout?: number;
}

/**
 * Options of `ProcessPoolExecutor.map()` (and `ClusterExecutor.map()`), given as its last
 * argument.
 * @example
 * ```ts
 * import { isMain, ProcessPoolExecutor, task } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor();
 *   const xs = Array.from({ length: 10000 }, (_, i) => i);
 *   const options = {
 *     chunksize: 1000,
 *     timeout: 5000,
 *     onProgress: (done: number) => console.log(`${done} of ${xs.length}`),
 *   };
 *   for await (const y of pool.map(square, xs, options)) void y;
 * }
 * ```
 */
export interface MapOptions {
  /** Milliseconds from the call until every result must be ready (`TimeoutError` after). */
  timeout?: number;
  /** Calls per task (default 1): larger chunks cost fewer messages for small tasks. */
  chunksize?: number;
  /**
   * Called with how many items are done (returned or failed, out of those submitted) each time
   * a task finishes, whether or not its results have been read: one item at a time, or a
   * chunk's `chunksize` at once. (`ProcessPoolExecutor` submits every item at once;
   * `ClusterExecutor`, lazy, as far as its window of jobs in Redis.) Counts up to the number of items when all finish; items
   * cancelled (the iteration stopped early, or failed) are not counted. A callback that throws
   * is reported as an uncaught error and the map goes on.
   */
  onProgress?: (done: number) => void;
}

/**
 * Splits `map`'s arguments into the iterables and the options: a last argument that is a plain
 * object (not iterable) is `{ timeout, chunksize, onProgress }`.
 */
export function splitMapArgs(
  args: unknown[],
  what: string,
): [iterables: unknown[], options: MapOptions] {
  const last = args.at(-1);
  if (
    args.length > 1 && typeof last === "object" && last !== null
    && typeof (last as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    return [args.slice(0, -1), checkOptions(last as MapOptions, MAP_OPTIONS, what, MAP_EXAMPLE)];
  }
  return [args, {}];
}

const MAP_OPTIONS = {
  timeout: true,
  chunksize: true,
  onProgress: true,
} as const satisfies OptionNames<MapOptions>;
const MAP_EXAMPLE = "{ chunksize: 1000, timeout: 5000 }";

const RUN_OPTIONS = { signal: true, timeout: true } as const satisfies OptionNames<RunOptions>;

const EXECUTOR_OPTIONS = {
  maxWorkers: true,
  context: true,
  initializer: true,
  initargs: true,
  maxTasksPerChild: true,
  module: true,
  taskTimeout: true,
} as const satisfies OptionNames<ExecutorOptions>;

/** Checks `run()`'s arguments (`what` names the call); returns its time limit, if any. */
export function checkRun(
  what: string,
  fn: unknown,
  args: unknown,
  given: RunOptions | undefined,
): number | undefined {
  const options = checkOptions(given, RUN_OPTIONS, what, "{ timeout: 5000, signal }");
  if (typeof fn !== "function") {
    throw new TypeError(`${what}: fn must be a function, got ${shown(fn)}`);
  }
  if (!Array.isArray(args)) {
    throw new TypeError(`${what}: args must be an array of arguments, got ${shown(args)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`${what}: signal must be an AbortSignal`);
  }
  return checkTimeout(what, options.timeout);
}

/** Checks a worker count: an integer of at least 1. */
export function checkWorkers(n: unknown, what: string): number {
  if (!Number.isInteger(n) || (n as number) < 1) {
    throw new RangeError(`${what} must be an integer >= 1, got ${shown(n)}`);
  }
  return n as number;
}

/**
 * A pool of worker processes (or threads) running submitted functions.
 * @example
 * ```ts
 * import { asCompleted, isMain, ProcessPoolExecutor, sleep } from "multiproc";
 *
 * export async function something(id: number, ms: number) {
 *   await sleep(ms);
 *   return `${id}--Woke Up`;
 * }
 *
 * if (isMain(import.meta)) {
 *   await using executor = new ProcessPoolExecutor();
 *   const tasks = [0, 1, 2].map((i) => executor.submit(something, i, 30 * (3 - i)));
 *   for await (const task of asCompleted(tasks)) console.log(await task.result());
 *   for await (const result of executor.map(something, [0, 1, 2], [30, 20, 10])) {
 *     console.log(result); // in input order
 *   }
 * }
 * ```
 */
export class ProcessPoolExecutor implements AsyncDisposable {
  readonly #pool: WorkerPool;
  readonly #taskTimeout: number | undefined;
  readonly #maxWorkers: number;
  #shutdown = false;

  constructor(given?: ExecutorOptions) {
    const options = checkOptions(
      given,
      EXECUTOR_OPTIONS,
      "ProcessPoolExecutor",
      "{ maxWorkers: 4 }",
    );
    const maxWorkers = checkWorkers(
      options.maxWorkers ?? cpuCount(),
      "ProcessPoolExecutor: maxWorkers",
    );
    this.#maxWorkers = maxWorkers;
    if (options.maxTasksPerChild !== undefined) {
      checkWorkers(options.maxTasksPerChild, "ProcessPoolExecutor: maxTasksPerChild");
    }
    this.#taskTimeout = checkTimeout("ProcessPoolExecutor: taskTimeout", options.taskTimeout);
    if (options.initializer !== undefined && typeof options.initializer !== "function") {
      throw new TypeError("ProcessPoolExecutor: initializer must be a function");
    }
    this.#pool = new WorkerPool({
      method: methodFrom(options.context, new.target),
      maxWorkers,
      initializer: options.initializer,
      initargs: options.initargs,
      maxTasksPerChild: options.maxTasksPerChild,
      module: checkModuleOption(options.module, "ProcessPoolExecutor"),
      what: "ProcessPoolExecutor",
      workerName: "PoolWorker",
    });
  }

  #checkOpen(what: string): void {
    if (this.#shutdown) {
      throw new Error(`ProcessPoolExecutor.${what}(): cannot schedule new tasks after shutdown()`);
    }
    if (this.#pool.broken) throw this.#pool.broken;
  }

  /** Runs `fn(...args)` in a worker; the future settles with its result or error. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    this.#checkOpen("submit");
    if (typeof fn !== "function") {
      throw new TypeError(`ProcessPoolExecutor.submit(): fn must be a function, got ${shown(fn)}`);
    }
    if (this.#taskTimeout !== undefined) return this.run(fn, args);
    return this.#pool.submit<Awaited<R>>(fn, args); // `...args`: an array of its own
  }

  /**
   * Runs `fn(...args)` in a worker as `submit` does, stoppable: an aborted `signal` drops it if
   * queued or kills its worker if running (`CancelledError`; the pool starts another worker);
   * past `timeout` ms from its start, the same with `TimeoutError`.
   */
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A = [] as unknown as A,
    options: RunOptions = {},
  ): Future<Awaited<R>> {
    this.#checkOpen("run");
    const timeout = checkRun("ProcessPoolExecutor.run()", fn, args, options) ?? this.#taskTimeout;
    const limits = { signal: options.signal, timeout };
    return this.#pool.submit<Awaited<R>>(fn, [...args], undefined, limits);
  }

  /**
   * `fn` over the iterables zipped (like Python's `zip`); the results in input order as an async
   * iterable. A last argument that is a plain object is `{ timeout, chunksize, onProgress }`
   * (`MapOptions`): `onProgress(done)` hears how many items are done as tasks finish.
   */
  map<R>(
    fn: (...args: never[]) => R,
    ...iterablesAndOptions: Iterable<unknown>[] | [...Iterable<unknown>[], MapOptions]
  ): AsyncIterableIterator<Awaited<R>> {
    this.#checkOpen("map");
    const [iterables, options] = splitMapArgs(iterablesAndOptions, "ProcessPoolExecutor.map()");
    const chunksize = checkChunksize(options.chunksize ?? 1, "ProcessPoolExecutor.map()");
    const onProgress = checkOnProgress(options.onProgress, "ProcessPoolExecutor.map()");
    const deadline = new Deadline("ProcessPoolExecutor.map()", options.timeout);
    const calls = zipCalls(iterables, "ProcessPoolExecutor.map()");
    const limits = this.#taskTimeout === undefined ? undefined : { timeout: this.#taskTimeout };
    const futures = submitCalls(this.#pool, fn as AnyFn, calls, chunksize, limits);
    countDone(futures, calls.n, chunksize, onProgress);
    return orderedResults<Awaited<R>>(futures, chunksize > 1, deadline);
  }

  /**
   * Stops accepting tasks. `wait` (default true): resolves once every task has settled and the
   * workers have ended. `cancelFutures`: cancels the tasks not yet started.
   */
  async shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) this.#pool.cancelQueued();
    this.#pool.close();
    if (wait) {
      await this.#pool.drained();
      await this.#pool.joinWorkers();
    }
  }

  /** `await using executor = new ProcessPoolExecutor()`: shuts down and waits. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  /** For `console.log`: `<ProcessPoolExecutor max_workers=2>`, then `shutdown` once it is. */
  toString(): string {
    return `<ProcessPoolExecutor max_workers=${this.#maxWorkers}${
      this.#shutdown ? " shutdown" : ""
    }>`;
  }
}

shownAsText(ProcessPoolExecutor);
