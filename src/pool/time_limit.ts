/**
 * A task's time limit (`run(fn, args, { timeout })`, `taskTimeout`): it runs from when the task
 * starts in its worker, not from when it was sent. A worker's first task of a function first
 * loads that function's module, which may take long (a loader, a big module): that time is not
 * the task's. Loading is bounded too, by the limit or `LOAD_GRACE_MS`, whichever is longer, so a
 * module that never finishes loading cannot keep a timed task waiting forever.
 * @module
 */
import { TimeoutError } from "../core/errors.ts";

/** The least time a timed task's worker is given to load its function before the task starts. */
export const LOAD_GRACE_MS = 5000;

/** The clock of one timed task; `expire` is called at most once, with the error to stop it with. */
export class TimeLimit {
  readonly #ms: number;
  readonly #what: string;
  readonly #expire: (error: TimeoutError) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ms: number, what: string, expire: (error: TimeoutError) => void) {
    this.#ms = ms;
    this.#what = what;
    this.#expire = expire;
  }

  /** The task was sent to a worker: it must start within the load bound. */
  sent(): void {
    const ms = Math.max(this.#ms, LOAD_GRACE_MS);
    this.#arm(ms, () =>
      new TimeoutError(
        `${this.#what}: the task did not start within ${ms} ms of reaching its worker (the worker `
          + `was still loading the task's function); check that its module finishes loading`,
      ));
  }

  /** The worker started the task: its limit runs from now. */
  started(): void {
    this.#arm(
      this.#ms,
      () => new TimeoutError(`${this.#what}: the task ran past its timeout of ${this.#ms} ms`),
    );
  }

  /** The task settled: no more clock. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number, error: () => TimeoutError): void {
    this.clear();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#expire(error());
    }, ms);
  }
}
