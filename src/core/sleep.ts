/**
 * Waiting without blocking the event loop.
 * @module
 */
import { checkDuration, Deadline } from "./deadline.ts";
import { keepAlive } from "./keep_alive.ts";

/** A promise that never settles: what a sleep races against. */
const never = new Promise<never>(() => {});

/**
 * Resolves after `ms` milliseconds (Python's `time.sleep`, in milliseconds). A negative `ms`
 * is 0; `Infinity` never resolves; `NaN` or a non-number throws.
 * @example
 * ```ts
 * import { sleep } from "multiproc";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  const deadline = new Deadline("sleep()", checkDuration("sleep()", "ms", ms));
  const slept = deadline.within(never).then(() => {});
  return deadline.at === undefined ? keepAlive(slept) : slept;
}

/**
 * Settles with `promise`, or resolves `undefined` once the timeout `ms` of the call `what` has
 * passed (none if undefined), leaving no timer behind. The timeout is checked at once (throws).
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
  what: string,
): Promise<T | undefined> {
  const deadline = new Deadline(what, ms);
  if (deadline.at === undefined) return promise;
  return deadline.within(promise).then((settled) => (settled ? promise : undefined));
}
