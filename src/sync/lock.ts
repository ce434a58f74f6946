/**
 * `Lock`: a mutex shared by every child and the parent of one context. One futex word, three
 * states (0 free, 1 held, 2 held with waiters): no syscall unless contended.
 * @module
 */
import { deadlineOf, remaining } from "./futex.ts";
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
 * import { Lock } from "./mod.ts";
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

  /** Takes the lock, blocking this thread until it is free (or the timeout); false if not taken. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options);
    const w = this._words;
    if (Atomics.compareExchange(w.i32, 0, 0, 1) === 0) return true;
    if (!blocking) return false;
    const deadline = deadlineOf(timeout);
    while (Atomics.exchange(w.i32, 0, 2) !== 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      w.wait(0, 2, left);
    }
    return true;
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options);
    const w = this._words;
    if (Atomics.compareExchange(w.i32, 0, 0, 1) === 0) return true;
    if (!blocking) return false;
    const deadline = deadlineOf(timeout);
    while (Atomics.exchange(w.i32, 0, 2) !== 0) {
      const left = remaining(deadline);
      if (left === 0) return false;
      await w.waitAsync(0, 2, left);
    }
    return true;
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
