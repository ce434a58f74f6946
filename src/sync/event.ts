/**
 * `Event`: a flag that `wait()` waits for. One futex word: the flag in bit 0, and above it a
 * count of `set()` calls, so that a waiter woken by a `set()` that a `clear()` undid at once
 * (a pulse) returns false then, as CPython's does, instead of sleeping on.
 * @module
 */
import { Origin, registerKind } from "../handles/handle.ts";
import { deadlineOf, remaining, runAsync, runSync, type Wait } from "./futex.ts";
import { Primitive, type Revival } from "./primitive.ts";

/** The flag's bit; the bits above it count the `set()` calls (wrapping). */
const FLAG = 1;
const SET_COUNT = 2;

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
    super(Origin.ofNoArguments(origin, new.target), 1);
  }

  /** Sets the flag and wakes all waiters. */
  set(): void {
    const i32 = this._words.i32;
    for (;;) {
      const w = Atomics.load(i32, 0);
      if (Atomics.compareExchange(i32, 0, w, ((w | FLAG) + SET_COUNT) | 0) === w) break;
    }
    this._words.wake(0);
  }

  /** Clears the flag. */
  clear(): void {
    Atomics.and(this._words.i32, 0, ~FLAG);
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return (Atomics.load(this._words.i32, 0) & FLAG) !== 0;
  }

  protected describe(): string {
    return this.isSet() ? "set" : "unset";
  }

  /**
   * Waits until the flag is set (true), a `set()` comes and its flag was cleared again before
   * this waiter saw it (false, as CPython's), or `deadline` passes (false).
   */
  *#until(deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this._words.i32;
    let w = Atomics.load(i32, 0);
    const sets = w & ~FLAG;
    while ((w & FLAG) === 0) {
      if ((w & ~FLAG) !== sets) return false; // set and cleared again: woken all the same
      if (remaining(deadline) === 0) return false;
      yield { i: 0, expected: w, deadline };
      w = Atomics.load(i32, 0);
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
