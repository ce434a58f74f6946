/**
 * `AsyncResult`: the pending result of a `Pool`'s `applyAsync`, `mapAsync` or `starmapAsync`
 * (CPython's `multiprocessing.pool.AsyncResult`).
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { ProcessError, TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";

/**
 * The pending result of `applyAsync`, `mapAsync` or `starmapAsync`.
 * @example
 * ```ts
 * import { Pool, task } from "multiproc";
 * export const add = task(import.meta, (a: number, b: number) => a + b);
 * await using pool = new Pool({ processes: 2 });
 * const r = pool.applyAsync(add, [1, 2]);
 * console.log(await r.get(5000), r.ready(), r.successful()); // 3 true true
 * ```
 */
export class AsyncResult<R> {
  readonly #settled: Promise<R>;
  #state: "pending" | "ok" | "failed" = "pending";

  /** @internal */
  constructor(result: Promise<R>) {
    this.#settled = result;
    result.then(() => (this.#state = "ok"), () => (this.#state = "failed"));
  }

  /** The result, waiting at most `timeoutMs` (`TimeoutError` after); rejects with the task's error. */
  get(timeoutMs?: number): Promise<R> {
    const deadline = new Deadline("AsyncResult.get()", timeoutMs);
    if (deadline.at === undefined) return keepAlive(this.#settled);
    return keepAlive(deadline.within(this.#settled)).then((settled) => {
      if (!settled) {
        throw new TimeoutError(`AsyncResult.get(): not ready within ${deadline.timeout} ms`);
      }
      return this.#settled;
    });
  }

  /** Waits until the result is ready, or at most `timeoutMs`. */
  async wait(timeoutMs?: number): Promise<void> {
    await keepAlive(new Deadline("AsyncResult.wait()", timeoutMs).within(this.#settled));
  }

  /** Whether the call has finished. */
  ready(): boolean {
    return this.#state !== "pending";
  }

  /** Whether it finished without error; throws if it has not finished. */
  successful(): boolean {
    if (this.#state === "pending") {
      throw new ProcessError("AsyncResult.successful(): the result is not ready; wait() first");
    }
    return this.#state === "ok";
  }
}
