/**
 * `Lock`: a mutex shared by every child and the parent of one context. One futex word holding
 * the holder's owner token (robust.ts): no syscall unless contended, and a lock whose holder
 * died is taken over by the next acquirer, which `ownerDied` tells.
 * @module
 */
import { Origin } from "../handles.ts";
import { deadlineOf, runAsync, runSync } from "./futex.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  Primitive,
  registerPrimitive,
  type Revival,
} from "./primitive.ts";
import {
  lock,
  type LockResult,
  takeFromDead,
  TAKEN,
  TAKEN_FROM_DEAD,
  TIMED_OUT_LOCK,
  tryLock,
  unlock,
} from "./robust.ts";

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

  #ownerDied = false;

  constructor();
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(origin?: Origin<Revival>) {
    super(Origin.of(origin, new.target), 1);
  }

  /**
   * True when this process's (or thread's) latest acquire took the lock from a holder that had
   * died holding it (a robust mutex's "owner died"): what it protects may be half-updated.
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  #took(result: LockResult): boolean {
    this.#ownerDied = result === TAKEN_FROM_DEAD;
    return result !== TIMED_OUT_LOCK;
  }

  /** Takes the lock, blocking this thread until it is free (or the timeout); false if not taken. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options, "Lock.acquire()");
    if (tryLock(this._words.i32, 0)) return this.#took(TAKEN);
    if (!blocking) return this.#took(takeFromDead(this._words.i32, 0) ? TAKEN_FROM_DEAD : 0);
    return this.#took(
      runSync(this._words, lock(this._words, 0, deadlineOf("Lock.acquire()", timeout))),
    );
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options, "Lock.acquireAsync()");
    if (tryLock(this._words.i32, 0)) return this.#took(TAKEN);
    if (!blocking) return this.#took(takeFromDead(this._words.i32, 0) ? TAKEN_FROM_DEAD : 0);
    const deadline = deadlineOf("Lock.acquireAsync()", timeout);
    return this.#took(await runAsync(this._words, lock(this._words, 0, deadline)));
  }

  /** Frees the lock (from any process, as CPython's); throws if it is not held. */
  release(): void {
    if (unlock(this._words, 0) === 0) {
      throw new Error("Lock.release(): the lock is not held; acquire() it first.");
    }
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

registerPrimitive(Lock);
