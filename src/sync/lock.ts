/**
 * `Lock`: a mutex shared by every child and the parent of one context. One futex word, three
 * states (0 free, 1 held, 2 held with waiters): no syscall unless contended.
 * @module
 */
import { deadlineOf, remaining, runAsync, runSync, type Wait } from "./futex.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  Primitive,
  registerPrimitive,
} from "./primitive.ts";

/**
 * A non-recursive lock (CPython's `multiprocessing.Lock`).
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * lock.acquire();
 * try {
 *   // critical section
 * } finally {
 *   lock.release();
 * }
 * {
 *   using _ = lock.hold();
 *   // critical section, released at the end of the block
 * }
 * ```
 */
export class Lock extends Primitive {
  static readonly kind = "Lock";

  constructor() {
    super(new.target, 1);
  }

  *#take(deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this._words.i32;
    while (Atomics.exchange(i32, 0, 2) !== 0) {
      if (remaining(deadline) === 0) return false;
      yield { i: 0, expected: 2, deadline };
    }
    return true;
  }

  /** Takes the lock, blocking this thread until it is free (or the timeout); false if not taken. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options);
    if (Atomics.compareExchange(this._words.i32, 0, 0, 1) === 0) return true;
    return blocking && runSync(this._words, this.#take(deadlineOf(timeout)));
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options);
    if (Atomics.compareExchange(this._words.i32, 0, 0, 1) === 0) return true;
    return blocking && await runAsync(this._words, this.#take(deadlineOf(timeout)));
  }

  /** Frees the lock; throws if it is not held. */
  release(): void {
    const prev = Atomics.exchange(this._words.i32, 0, 0);
    if (prev === 0) throw new Error("Lock.release(): the lock is not held; acquire() it first.");
    if (prev === 2) this._words.wake(0, 1);
  }

  /** Acquires and returns a `Disposable` that releases: `using _ = lock.hold();`. */
  hold(): Disposable {
    this.acquire();
    return disposable(() => this.release());
  }

  /** Whether the lock is held by anyone. */
  locked(): boolean {
    return Atomics.load(this._words.i32, 0) !== 0;
  }
}

registerPrimitive(Lock.kind, () => new Lock());
