/**
 * `Event`: a flag that `wait()` waits for. One futex word.
 * @module
 */
import { Origin, registerKind } from "../handles/handle.ts";
import { deadlineOf, remaining, runAsync, runSync, type Wait } from "./futex.ts";
import { Primitive, type Revival } from "./primitive.ts";

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

  constructor();
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(origin?: Origin<Revival>) {
    super(Origin.of(origin, new.target), 1);
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

  /** Waits until the flag is set (true) or `deadline` passes (false). */
  *#until(deadline: number | undefined): Generator<Wait, boolean, void> {
    while (!this.isSet()) {
      if (remaining(deadline) === 0) return false;
      yield { i: 0, expected: 0, deadline };
    }
    return true;
  }

  /** Resolves true once the flag is set, or false after `timeoutMs`. */
  async wait(timeoutMs?: number): Promise<boolean> {
    return await runAsync(this._words, this.#until(deadlineOf("Event.wait()", timeoutMs)));
  }

  /** Like `wait()`, blocking this thread. */
  waitSync(timeoutMs?: number): boolean {
    return runSync(this._words, this.#until(deadlineOf("Event.waitSync()", timeoutMs)));
  }
}

registerKind(Event);
