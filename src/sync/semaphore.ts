/**
 * `Semaphore` and `BoundedSemaphore`. Words: value, number of waiters, bound (-1: none).
 * @module
 */
import { shown } from "../core/options.ts";
import { Origin, registerKind } from "../handles/handle.ts";
import { deadlineOf, remaining, runAsync, runSync, type Wait } from "./futex.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  Primitive,
  type Revival,
} from "./primitive.ts";

const VALUE = 0, WAITERS = 1, BOUND = 2;
/** The largest value: one more would wrap the 32-bit word to a negative, which never acquires. */
const MAX_VALUE = 0x7fffffff;

/**
 * A counter that `acquire()` decrements, waiting while it is 0, and `release()` increments.
 * @example
 * ```ts
 * import { Semaphore } from "multiproc";
 * const slots = new Semaphore(2);
 * if (slots.acquire({ timeout: 100 })) {
 *   try {
 *     // at most two holders at a time
 *   } finally {
 *     slots.release();
 *   }
 * }
 * ```
 */
export class Semaphore extends Primitive {
  static readonly kind: string = "Semaphore";

  constructor(value?: number);
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(a: number | Origin<Revival> = 1) {
    const origin = Origin.of<Revival>(a, new.target);
    super(origin, 3);
    if (!origin.revived) {
      const value = a as number;
      if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE) {
        throw new (typeof value === "number" ? RangeError : TypeError)(
          `${new.target.name}(value): the initial value must be an integer >= 0 `
            + `(new ${new.target.name}(3)), got ${shown(value)}`,
        );
      }
      Atomics.store(this._words.i32, VALUE, value);
      Atomics.store(this._words.i32, BOUND, this._bounded() ? value : -1);
    }
  }

  /** @internal Whether release() is bounded by the initial value. */
  protected _bounded(): boolean {
    return false;
  }

  #try(): boolean {
    const i32 = this._words.i32;
    for (let v = Atomics.load(i32, VALUE); v > 0; v = Atomics.load(i32, VALUE)) {
      if (Atomics.compareExchange(i32, VALUE, v, v - 1) === v) return true;
    }
    return false;
  }

  *#take(deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this._words.i32;
    for (;;) {
      if (remaining(deadline) === 0) return false;
      Atomics.add(i32, WAITERS, 1);
      yield { i: VALUE, expected: 0, deadline };
      Atomics.sub(i32, WAITERS, 1);
      if (this.#try()) return true;
    }
  }

  /** Decrements the value, blocking this thread while it is 0; false on timeout or non-blocking. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options, "Semaphore.acquire()");
    if (this.#try()) return true;
    return blocking && runSync(this._words, this.#take(deadlineOf("Semaphore.acquire()", timeout)));
  }

  /** Decrements the value without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options, "Semaphore.acquireAsync()");
    if (this.#try()) return true;
    const deadline = deadlineOf("Semaphore.acquireAsync()", timeout);
    return blocking && await runAsync(this._words, this.#take(deadline));
  }

  /** Increments the value, waking one waiter. */
  release(): void {
    const i32 = this._words.i32;
    const bound = Atomics.load(i32, BOUND);
    for (;;) {
      const v = Atomics.load(i32, VALUE);
      if (bound >= 0 && v >= bound) {
        throw new Error(
          `BoundedSemaphore.release(): released too many times (value is already ${v}, its bound).`,
        );
      }
      if (v === MAX_VALUE) {
        throw new RangeError(
          `${this.constructor.name}.release(): released too many times (value is already `
            + `${v}, the largest a semaphore holds).`,
        );
      }
      if (Atomics.compareExchange(i32, VALUE, v, v + 1) === v) break;
    }
    if (Atomics.load(i32, WAITERS) > 0) this._words.wake(VALUE, 1);
  }

  /** Acquires and returns a `Disposable` that releases: `using _ = sem.hold();`. */
  hold(): Disposable {
    this.acquire();
    return disposable(() => this.release());
  }

  /** The current value. */
  getValue(): number {
    return Atomics.load(this._words.i32, VALUE);
  }

  /** Whether `acquire()` would have to wait. */
  locked(): boolean {
    return this.getValue() === 0;
  }

  protected describe(): string {
    const bound = Atomics.load(this._words.i32, BOUND);
    return `value=${this.getValue()}${bound >= 0 ? `, maxvalue=${bound}` : ""}`;
  }
}

/**
 * A semaphore whose `release()` throws rather than raise the value above its initial value.
 * @example
 * ```ts
 * import { BoundedSemaphore } from "multiproc";
 * const s = new BoundedSemaphore(1);
 * s.acquire();
 * s.release();
 * // s.release() again would throw
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  static override readonly kind: string = "BoundedSemaphore";

  protected override _bounded(): boolean {
    return true;
  }
}

registerKind(Semaphore, BoundedSemaphore);
