/**
 * Waiting on many futures: `asCompleted` (completion order) and `wait` (by condition).
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { TimeoutError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import type { Future } from "./future.ts";

/**
 * `wait()` returns when any future finishes.
 * @example
 * ```ts
 * import { FIRST_COMPLETED, isMain, ProcessPoolExecutor, sleep, task, wait } from "multiproc";
 * export const nap = task(import.meta, (ms: number) => sleep(ms).then(() => ms));
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor();
 *   const futures = [300, 10].map((ms) => pool.submit(nap, ms));
 *   const { done } = await wait(futures, { returnWhen: FIRST_COMPLETED });
 *   console.log(done.size); // 1 (the 10 ms nap)
 * }
 * ```
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * `wait()` returns when any future fails (or all finish).
 * @example
 * ```ts
 * import { FIRST_EXCEPTION, isMain, ProcessPoolExecutor, task, wait } from "multiproc";
 * export const check = task(import.meta, (x: number) => {
 *   if (x < 0) throw new RangeError(`negative: ${x}`);
 *   return x;
 * });
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor();
 *   const futures = [1, -1, 2].map((x) => pool.submit(check, x));
 *   const { done } = await wait(futures, { returnWhen: FIRST_EXCEPTION });
 *   for (const f of done) {
 *     const error = await f.exception();
 *     if (error) console.log(error); // RangeError: negative: -1
 *   }
 * }
 * ```
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * `wait()` returns when all futures finish (the default).
 * @example
 * ```ts
 * import { ALL_COMPLETED, isMain, ProcessPoolExecutor, task, wait } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor();
 *   const futures = [1, 2, 3].map((x) => pool.submit(square, x));
 *   const { done, notDone } = await wait(futures, { returnWhen: ALL_COMPLETED });
 *   console.log(done.size, notDone.size); // 3 0
 * }
 * ```
 */
export const ALL_COMPLETED = "ALL_COMPLETED";

/**
 * When `wait()` returns.
 * @example
 * ```ts
 * import type { ReturnWhen } from "multiproc";
 * const when: ReturnWhen = "FIRST_COMPLETED";
 * ```
 */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/**
 * The futures in the order they finish (those already finished first), each once. Throws
 * `TimeoutError` naming how many are unfinished if `timeoutMs` passes first.
 * @example
 * ```ts
 * import { asCompleted, ProcessPoolExecutor, task } from "multiproc";
 * export const twice = task(import.meta, (x: number) => 2 * x);
 * await using ex = new ProcessPoolExecutor();
 * for await (const f of asCompleted([1, 2, 3].map((x) => ex.submit(twice, x)))) {
 *   console.log(await f.result());
 * }
 * ```
 */
export function asCompleted<F extends Future<unknown>>(
  futures: Iterable<F>,
  timeoutMs?: number,
): AsyncIterableIterator<Completed<F>> {
  // Hand-written rather than an async generator: a generator's `yield` would await the
  // (thenable) future and hand out its result instead of the future.
  const deadline = new Deadline("asCompleted()", timeoutMs);
  const all = [...new Set(futures)];
  const finished: F[] = [];
  let wake: (() => void) | undefined;
  for (const f of all) {
    f.addDoneCallback(() => {
      finished.push(f);
      wake?.();
    });
  }
  let yielded = 0;
  let closed = false;
  const iterator: AsyncIterableIterator<Completed<F>> = {
    async next(): Promise<IteratorResult<Completed<F>>> {
      while (!closed && yielded < all.length) {
        if (finished.length > 0) {
          yielded++;
          return { value: finished.shift()! as Completed<F>, done: false };
        }
        if (deadline.expired()) {
          closed = true;
          throw timeout(all.length - yielded, all.length, deadline.timeout!);
        }
        await keepAlive(deadline.within(new Promise<void>((resolve) => (wake = resolve))));
        wake = undefined;
      }
      return { value: undefined, done: true };
    },
    return(): Promise<IteratorResult<Completed<F>>> {
      closed = true;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

function timeout(unfinished: number, total: number, ms: number): TimeoutError {
  return new TimeoutError(`${unfinished} (of ${total}) futures unfinished after ${ms} ms`);
}

/**
 * A future as `asCompleted` hands it out: the very `Future` object, typed without `then` so
 * that `for await` (which TypeScript types as awaiting each value) leaves it a future.
 * @example
 * ```ts
 * import { asCompleted, type Completed, type Future } from "multiproc";
 * async function first<T>(futures: Future<T>[]): Promise<Completed<Future<T>>> {
 *   for await (const f of asCompleted(futures)) return f;
 *   throw new Error("no futures");
 * }
 * ```
 */
export type Completed<F> = Omit<F, "then">;

/**
 * What `wait()` resolves with: the futures that finished and those that did not.
 * @example
 * ```ts
 * import { type Future, wait, type WaitResult } from "multiproc";
 * async function settle(futures: Future<number>[]): Promise<number> {
 *   const { done }: WaitResult<Future<number>> = await wait(futures, { timeout: 1000 });
 *   return done.size;
 * }
 * ```
 */
export interface WaitResult<F> {
  done: Set<F>;
  notDone: Set<F>;
}

/**
 * Waits until `returnWhen` holds for `futures`, or `timeout` ms pass; resolves with the finished
 * and unfinished ones.
 * @example
 * ```ts
 * import { FIRST_COMPLETED, ProcessPoolExecutor, task, wait } from "multiproc";
 * export const twice = task(import.meta, (x: number) => 2 * x);
 * await using ex = new ProcessPoolExecutor();
 * const { done, notDone } = await wait([ex.submit(twice, 1), ex.submit(twice, 2)], {
 *   returnWhen: FIRST_COMPLETED,
 * });
 * console.log(done.size >= 1, done.size + notDone.size); // true 2
 * ```
 */
export async function wait<F extends Future<unknown>>(
  futures: Iterable<F>,
  options: { timeout?: number; returnWhen?: ReturnWhen } = {},
): Promise<WaitResult<F>> {
  const { timeout, returnWhen = ALL_COMPLETED } = options;
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) {
    throw new TypeError(
      `wait(): returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${
        String(returnWhen)
      }`,
    );
  }
  const deadline = new Deadline("wait()", timeout);
  const all = [...new Set(futures)];
  const satisfied = () => {
    const done = all.filter((f) => f.done());
    if (returnWhen === FIRST_COMPLETED) return done.length > 0;
    if (returnWhen === FIRST_EXCEPTION && done.some((f) => f._failed())) return true;
    return done.length === all.length;
  };
  if (!satisfied()) {
    const whenSatisfied = new Promise<void>((resolve) => {
      for (const f of all) f.addDoneCallback(() => satisfied() && resolve());
    });
    await keepAlive(deadline.within(whenSatisfied));
  }
  const done = new Set(all.filter((f) => f.done()));
  return { done, notDone: new Set(all.filter((f) => !done.has(f))) };
}
