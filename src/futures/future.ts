/**
 * `Future`: the pending result of a task (CPython's `concurrent.futures.Future`), a `Promise`.
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { CancelledError, TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { shown } from "../core/options.ts";

/** A future's state, in the order it goes through them: settled from `CANCELLED` on. */
const PENDING = 0;
const RUNNING = 1;
const CANCELLED = 2;
const RETURNED = 3;
const RAISED = 4;
type State = typeof PENDING | typeof RUNNING | typeof CANCELLED | typeof RETURNED | typeof RAISED;
const STATE_NAMES = ["pending", "running", "cancelled", "finished, returned", "finished, raised"];

const ignore = () => {};

/**
 * The resolving function of the promise being made (`Future`'s constructor reads it at once): one
 * executor for every future, not a closure and its context each (~100 bytes of garbage per task,
 * which a program submitting thousands in one turn pays in collections). The reject function is
 * not kept (64 bytes less a pending future holds, Node): a future fails by resolving to a
 * thenable that rejects (`rejecting`), the rarer path paying a turn more.
 */
let resolveNext: ((v: never) => void) | undefined;
function capture(resolve: (v: never) => void): void {
  resolveNext = resolve;
}

/** A thenable that rejects with `error`: what a failing future resolves to. */
function rejecting(error: unknown): PromiseLike<never> {
  return {
    then(_onFulfilled, onRejected) {
      onRejected?.(error);
      return undefined as never;
    },
  };
}

/**
 * @internal What runs a future's task and can take it back: its pool or executor, one object for
 * all of its futures (a future holds it and its task, not two closures of its own).
 */
export interface TaskOwner<T> {
  /** Drops `task` if no worker has it yet; false if one has it or it is gone. */
  cancelQueued(task: T): boolean;
  /** Stops `task` where it runs (`cancel({ force: true })`); false if it had settled. */
  stopRunning(task: T): boolean;
}

/**
 * The result of a task submitted to an executor: `await future` or `future.result(ms)`. A
 * `Promise`, which `Promise.all()` and `await` take as it is; its `then`, `catch` and `finally`
 * give plain promises. A failed future nobody awaits is no unhandled rejection.
 * @example
 * ```ts
 * import { ProcessPoolExecutor, task } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * await using ex = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const future = ex.submit(square, 7);
 * console.log(await future); // 49
 * console.log(future.done()); // true
 * ```
 */
export class Future<R = unknown> extends Promise<R> implements PromiseLike<R> {
  /** `then`, `catch` and `finally` give plain promises, not futures. */
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  #state: State = PENDING;
  /** The result (`RETURNED`) or the error (`RAISED`, `CANCELLED`). */
  #outcome: unknown;
  // Typed without R, so that a Future<number> is a Future<unknown> (covariance).
  #callbacks: ((f: never) => void)[] | null = null;
  /** The `onProgress` callbacks, until the future settles. */
  #progress: ((value: unknown) => void)[] | null = null;
  #resolve: (v: never) => void;
  #owner: TaskOwner<never> | undefined;
  #task: unknown;

  /**
   * @internal Made by the pools and executors, pending. (Not by `Future.resolve()`,
   * `Future.all()` and the like, which Promise's statics reach through this constructor: they
   * are refused, as a future is a task's.)
   */
  constructor(executor?: unknown) {
    if (executor !== undefined) {
      throw new TypeError(
        "Future: futures are made by executors (submit, map), not by Future.resolve(), "
          + "Future.all() or new Future(executor); use Promise.resolve(), Promise.all() "
          + "and the like",
      );
    }
    super(capture);
    this.#resolve = resolveNext!;
    resolveNext = undefined;
  }

  /** @internal Ties the future to its `task` in `owner`, which `cancel()` asks to drop or stop it. */
  _attach<T>(owner: TaskOwner<T>, task: T): void {
    this.#owner = owner as TaskOwner<never>;
    this.#task = task;
  }

  /** Whether the task is running (handed to a worker) now. */
  running(): boolean {
    return this.#state === RUNNING;
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.#state === CANCELLED;
  }

  /** Whether the future has settled: finished, failed or cancelled. */
  done(): boolean {
    return this.#state >= CANCELLED;
  }

  /**
   * Cancels the task if it has not started; true if it is (now) cancelled. With `force`, a
   * running task is stopped too (its worker is killed and replaced) and the future rejects with
   * `CancelledError`.
   */
  cancel(options: { force?: boolean } = {}): boolean {
    if (this.#state === CANCELLED) return true;
    const owner = this.#owner;
    if (this.#state === RUNNING && options.force && owner) {
      return owner.stopRunning(this.#task as never);
    }
    if (this.#state !== PENDING) return false;
    if (owner && !owner.cancelQueued(this.#task as never)) return false;
    this.#state = CANCELLED;
    this.#outcome = new CancelledError("the future was cancelled before it ran");
    this.#settle();
    return true;
  }

  /** @internal Whether it finished with an error (not cancelled). */
  _failed(): boolean {
    return this.#state === RAISED;
  }

  /** @internal Marks the task as handed to a worker; false if it was cancelled meanwhile. */
  _setRunning(): boolean {
    if (this.#state !== PENDING) return this.#state === RUNNING;
    this.#state = RUNNING;
    return true;
  }

  /** @internal Settles with a result. */
  _setResult(value: R): void {
    if (this.done()) return;
    this.#state = RETURNED;
    this.#outcome = value;
    this.#settle();
  }

  /** @internal Settles as cancelled with `error` (a task stopped by its signal or by force). */
  _setCancelled(error: Error): void {
    if (this.done()) return;
    this.#state = CANCELLED;
    this.#outcome = error;
    this.#settle();
  }

  /** @internal Settles with an error. */
  _setException(error: unknown): void {
    if (this.done()) return;
    this.#state = RAISED;
    this.#outcome = error;
    this.#settle();
  }

  #settle(): void {
    this.#progress = null; // reports after settlement are dropped
    if (this.#state !== RETURNED) {
      // A failed future nobody awaits is not an unhandled rejection (as CPython's is not).
      Promise.prototype.then.call(this, undefined, ignore);
      this.#resolve(rejecting(this.#outcome) as never);
    } else this.#resolve(this.#outcome as never);
    this.#owner = this.#task = undefined;
    const callbacks = this.#callbacks;
    this.#callbacks = null;
    if (callbacks) {
      for (const callback of callbacks) this.#call(callback as (f: Future<R>) => void);
    }
  }

  #call(callback: (f: Future<R>) => void): void {
    try {
      callback(this);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Calls `fn(future)` once the future settles (at once if it has). */
  addDoneCallback(fn: (future: Future<R>) => void): void {
    if (this.done()) this.#call(fn);
    else (this.#callbacks ??= []).push(fn);
  }

  /**
   * Calls `callback(value)` for each `progress(value)` the task reports from its worker, in the
   * order reported, from now until the future settles: reports that arrive after it has settled
   * (finished, failed, cancelled or stopped) are dropped, and reports made before the callback
   * was registered are not replayed (register it when submitting, as below; the first report
   * cannot arrive before the next turn of the event loop). Returns the future itself, so that
   * `await pool.submit(fn, x).onProgress(cb)` reads as one call; callbacks are released when it
   * settles. (A `ClusterExecutor`'s futures hear nothing: reports stay on the worker's
   * machine.) A callback that throws does not stop the other callbacks, the task or the pool: its
   * error is rethrown in a microtask (an uncaught error, as one thrown in an `addDoneCallback`
   * callback), so that it is seen.
   * @example
   * ```ts
   * import { isMain, ProcessPoolExecutor, progress, task } from "multiproc";
   *
   * export const steps = task(import.meta, (n: number) => {
   *   for (let i = 1; i <= n; i++) progress(`step ${i} of ${n}`);
   *   return n;
   * });
   *
   * if (isMain(import.meta)) {
   *   await using pool = new ProcessPoolExecutor();
   *   const f = pool.submit(steps, 3).onProgress((line) => console.log(line));
   *   console.log(await f); // after "step 1 of 3", "step 2 of 3", "step 3 of 3"
   * }
   * ```
   */
  onProgress(callback: (value: unknown) => void): this {
    if (typeof callback !== "function") {
      throw new TypeError(
        `Future.onProgress(): callback must be a function, got ${shown(callback)}`,
      );
    }
    if (!this.done()) (this.#progress ??= []).push(callback);
    return this;
  }

  /** @internal A report of the task (pool/progress.ts): to the callbacks, unless settled. */
  _setProgress(value: unknown): void {
    const callbacks = this.#progress;
    if (callbacks === null) return;
    for (let i = 0, n = callbacks.length; i < n && this.#progress !== null; i++) {
      try {
        callbacks[i](value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Waits at most `timeoutMs` for settlement; rejects with `TimeoutError` after it. */
  async #waitFor(timeoutMs: number | undefined, what: string): Promise<void> {
    const deadline = new Deadline(what, timeoutMs);
    if (this.done()) return;
    if (!(await keepAlive(deadline.within(this)))) {
      throw new TimeoutError(`${what}: the future did not finish within ${deadline.timeout} ms`);
    }
  }

  /** The task's result, waiting at most `timeoutMs` (`TimeoutError` after); rejects with its error. */
  async result(timeoutMs?: number): Promise<R> {
    await this.#waitFor(timeoutMs, "Future.result()");
    if (this.#state !== RETURNED) throw this.#outcome;
    return this.#outcome as R;
  }

  /** The task's error (or null if it succeeded), waiting at most `timeoutMs`. */
  async exception(timeoutMs?: number): Promise<unknown> {
    await this.#waitFor(timeoutMs, "Future.exception()");
    if (this.#state === CANCELLED) throw this.#outcome;
    return this.#state === RAISED ? this.#outcome : null;
  }

  /** For `console.log`. */
  override toString(): string {
    return `Future(${STATE_NAMES[this.#state]})`;
  }
}

// `Promise.resolve(future)` and `await future` take a future as it is (no promise around it, no
// job that calls its `then`) only where its `constructor` is `Promise` itself.
Object.defineProperty(Future.prototype, "constructor", { value: Promise, writable: true });
