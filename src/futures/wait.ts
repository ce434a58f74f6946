/**
 * Waiting on many futures: `asCompleted` (completion order) and `wait` (by condition).
 * @module
 */
import { TimeoutError } from "../errors.ts";
import { keepAlive } from "../keep_alive.ts";
import type { Future } from "./future.ts";

/** `wait()` returns when any future finishes. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait()` returns when any future fails (or all finish). */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait()` returns when all futures finish. */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When `wait()` returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/**
 * The futures in the order they finish (those already finished first), each once. Throws
 * `TimeoutError` naming how many are unfinished if `timeoutMs` passes first.
 * @example
 * ```ts
 * import { asCompleted, ProcessPoolExecutor, task } from "./mod.ts";
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
  const all = [...new Set(futures)];
  const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
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
        const left = deadline === undefined ? undefined : deadline - performance.now();
        if (left !== undefined && left <= 0) {
          closed = true;
          throw timeout(all.length - yielded, all.length, timeoutMs!);
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await keepAlive(
          new Promise<void>((resolve) => {
            wake = resolve;
            if (left !== undefined) timer = setTimeout(resolve, left);
          }),
        );
        clearTimeout(timer);
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
 */
export type Completed<F> = Omit<F, "then">;

/** What `wait()` resolves with. */
export interface WaitResult<F> {
  done: Set<F>;
  notDone: Set<F>;
}

/**
 * Waits until `returnWhen` holds for `futures`, or `timeout` ms pass; resolves with the finished
 * and unfinished ones.
 * @example
 * ```ts
 * import { FIRST_COMPLETED, ProcessPoolExecutor, task, wait } from "./mod.ts";
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
  const { timeout: ms, returnWhen = ALL_COMPLETED } = options;
  if (![FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED].includes(returnWhen)) {
    throw new TypeError(
      `wait(): returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${
        String(returnWhen)
      }`,
    );
  }
  const all = [...new Set(futures)];
  const satisfied = () => {
    const done = all.filter((f) => f.done());
    if (returnWhen === FIRST_COMPLETED) return done.length > 0;
    if (returnWhen === FIRST_EXCEPTION && done.some((f) => f._failed())) return true;
    return done.length === all.length;
  };
  if (!satisfied()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await keepAlive(
      new Promise<void>((resolve) => {
        for (const f of all) f.addDoneCallback(() => satisfied() && resolve());
        if (ms !== undefined) timer = setTimeout(resolve, ms);
      }),
    );
    clearTimeout(timer);
  }
  const done = new Set(all.filter((f) => f.done()));
  return { done, notDone: new Set(all.filter((f) => !done.has(f))) };
}
