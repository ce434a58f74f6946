/**
 * Timeouts, one way everywhere: how a timeout given in milliseconds is checked, and the deadline
 * it sets. The rules, as CPython's `threading` and `concurrent.futures` have them: `undefined`
 * (or `null`) and `Infinity` wait without limit; a negative timeout counts as 0 (it has passed:
 * a check without waiting); `NaN` is a `RangeError` and anything but a number a `TypeError`,
 * each naming the call, the value and what to give instead.
 *
 * Imports only how a value is shown: every layer may use it.
 * @module
 */
import { shown } from "./options.ts";

/** `setTimeout`'s largest delay (2^31 - 1 ms, about 24.8 days): a longer one fires at once. */
const MAX_DELAY_MS = 0x7fffffff;

/** Checks a number of milliseconds: a negative one is 0, `Infinity` stays; else it throws. */
function checkMs(what: string, name: string, value: unknown, remedy: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`${what}: ${name} must be ${remedy}, got ${shown(value)}`);
  }
  if (Number.isNaN(value)) throw new RangeError(`${what}: ${name} must be ${remedy}, got NaN`);
  return value > 0 ? value : 0;
}

/**
 * Checks the timeout `timeout` of the call `what` (e.g. `"Future.result()"`): undefined for none
 * (`undefined`, `null`, `Infinity`), else milliseconds >= 0 (a negative timeout is 0). Throws a
 * `TypeError` for a non-number, a `RangeError` for `NaN`.
 */
export function checkTimeout(what: string, timeout: unknown): number | undefined {
  if (timeout === undefined || timeout === null || timeout === Infinity) return undefined;
  return checkMs(what, "timeout", timeout, "a number of milliseconds >= 0 or undefined");
}

/**
 * Checks a duration that must be given (`sleep(ms)`): milliseconds >= 0 (a negative one is 0),
 * or `Infinity`. Throws a `TypeError` for a non-number, `undefined` included; a `RangeError` for
 * `NaN`.
 */
export function checkDuration(what: string, name: string, ms: unknown): number {
  return checkMs(what, name, ms, "a number of milliseconds >= 0");
}

/**
 * The instant (on the `performance.now()` clock) at which the timeout `timeout` of the call
 * `what` passes, or undefined for none; checked as `checkTimeout` does. For waits that carry
 * their deadline as a plain number (the shared-memory locks, queues and pipes).
 */
export function deadlineOf(what: string, timeout: unknown): number | undefined {
  const ms = checkTimeout(what, timeout);
  return ms === undefined ? undefined : performance.now() + ms;
}

/** Milliseconds left until the instant `deadline` (>= 0), or undefined for none. */
export function remaining(deadline: number | undefined): number | undefined {
  return deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
}

/**
 * A deadline set by a call's timeout when the call starts, for waits that may wait several
 * times (each waits what is left) and must leave no timer behind.
 * @example
 * ```ts
 * import { Deadline } from "./deadline.ts";
 * const deadline = new Deadline("example()", 100);
 * const slow = new Promise((resolve) => setTimeout(resolve, 1000));
 * console.log(await deadline.within(slow), deadline.expired()); // false true
 * ```
 */
export class Deadline {
  /** The call whose timeout this is, for messages, e.g. `"Future.result()"`. */
  readonly what: string;
  /** The timeout, checked: milliseconds >= 0, or undefined for none. */
  readonly timeout: number | undefined;
  /** The instant it passes on the `performance.now()` clock, or undefined for none. */
  readonly at: number | undefined;

  /** Starts the clock on `timeout` ms, checked as `checkTimeout(what, timeout)` does. */
  constructor(what: string, timeout: unknown) {
    this.what = what;
    this.timeout = checkTimeout(what, timeout);
    this.at = this.timeout === undefined ? undefined : performance.now() + this.timeout;
  }

  /** Milliseconds left (>= 0); `Infinity` for none. */
  remaining(): number {
    return remaining(this.at) ?? Infinity;
  }

  /** Whether it has passed (never, for none). */
  expired(): boolean {
    return this.remaining() === 0;
  }

  /**
   * Resolves true once `promise` settles (fulfilled or rejected), false if the deadline passes
   * first; its timer is cleared either way. A promise settled already wins even when no time
   * is left, so a timeout of 0 polls. Waits of more than `setTimeout`'s longest delay re-arm.
   * Holds the event loop open only while a timer runs: with no deadline, wrap it in
   * `keepAlive` if nothing else does.
   */
  within(promise: PromiseLike<unknown>): Promise<boolean> {
    if (this.at === undefined) return Promise.resolve(promise).then(() => true, () => true);
    return new Promise<boolean>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A timer may fire a little early on the performance clock: check, and wait the rest.
      const arm = (): void => {
        timer = setTimeout(
          () => (this.expired() ? resolve(false) : arm()),
          Math.min(this.remaining(), MAX_DELAY_MS),
        );
      };
      arm();
      const settled = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      promise.then(settled, settled);
    });
  }
}
