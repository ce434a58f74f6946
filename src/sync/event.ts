/**
 * `Event`: a flag that `wait()` waits for. One futex word.
 * @module
 */
import { deadlineOf, remaining } from "./futex.ts";
import { Primitive, registerPrimitive } from "./primitive.ts";

/**
 * A flag shared by processes: `set()` wakes every waiter.
 * @example
 * ```ts
 * import { Event } from "multiproc";
 * const ready = new Event();
 * setTimeout(() => ready.set(), 10);
 * console.log(await ready.wait(1000)); // true
 * ```
 */
export class Event extends Primitive {
  static readonly kind = "Event";

  constructor() {
    super(new.target, 1);
  }

  /** Sets the flag and wakes all waiters. */
  set(): void {
    Atomics.store(this._words.i32, 0, 1);
    this._words.wake(0);
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.store(this._words.i32, 0, 0);
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return Atomics.load(this._words.i32, 0) === 1;
  }

  /** Resolves true once the flag is set, or false after `timeoutMs`. */
  async wait(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    while (!this.isSet()) {
      const left = remaining(deadline);
      if (left === 0) return false;
      await this._words.waitAsync(0, 0, left);
    }
    return true;
  }

  /** Like `wait()`, blocking this thread. */
  waitSync(timeoutMs?: number): boolean {
    const deadline = deadlineOf(timeoutMs);
    while (!this.isSet()) {
      const left = remaining(deadline);
      if (left === 0) return false;
      this._words.wait(0, 0, left);
    }
    return true;
  }
}

registerPrimitive(Event.kind, () => new Event());
