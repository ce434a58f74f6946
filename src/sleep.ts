/**
 * Waiting without blocking the event loop.
 * @module
 */

/**
 * Resolves after `ms` milliseconds (Python's `time.sleep`, in milliseconds).
 * @example
 * ```ts
 * import { sleep } from "multiproc";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Settles with `promise`, or resolves `undefined` after `ms`, leaving no timer behind. */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
): Promise<T | undefined> {
  if (ms === undefined || ms === Infinity) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
