/**
 * What `Lock` and `RLock` share: a robust mutex word holding its owner's token (robust.ts),
 * taken over from a holder that died (`ownerDied` says so), acquired with or without blocking
 * the event loop, held for a block with `using`.
 * @module
 */
import type { Origin } from "../handles/handle.ts";
import { deadlineOf, runAsync, runSync } from "./futex.ts";
import { myToken } from "./owner.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  Primitive,
  type Revival,
} from "./primitive.ts";
import {
  holder,
  lock,
  type LockResult,
  takeFromDead,
  TAKEN,
  TAKEN_FROM_DEAD,
  TIMED_OUT_LOCK,
  tryLock,
} from "./robust.ts";

/** The mutex word: the first of a lock's words. */
export const MUTEX = 0;

/** Base of `Lock` and `RLock`. */
export abstract class OwnedLock extends Primitive {
  #ownerDied = false;

  /** @internal */
  protected constructor(origin: Origin<Revival>, count: number) {
    super(origin, count);
  }

  /**
   * True when this process's (or thread's) latest acquire took the lock from a holder that had
   * died holding it (a robust mutex's "owner died"): what it protects may be half-updated.
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  /** Records how an acquire ended; whether it took the lock. */
  protected took(result: LockResult): boolean {
    this.#ownerDied = result === TAKEN_FROM_DEAD;
    return result !== TIMED_OUT_LOCK;
  }

  /** Takes the lock at once if it can (true), or says it cannot without waiting (false / null). */
  protected quick(blocking: boolean): boolean | null {
    const i32 = this._words.i32;
    if (tryLock(i32, MUTEX)) return this.took(TAKEN);
    if (!blocking) return this.took(takeFromDead(i32, MUTEX) ? TAKEN_FROM_DEAD : TIMED_OUT_LOCK);
    return null;
  }

  /** Takes the lock, blocking this thread until it is free (or the timeout); false if not taken. */
  acquire(options?: AcquireOptions): boolean {
    if (options === undefined) {
      return this.quick(true)
        ?? this.took(runSync(this._words, lock(this._words, MUTEX, undefined)));
    }
    const what = `${this.constructor.name}.acquire()`;
    const { blocking, timeout } = acquireArgs(options, what);
    return this.quick(blocking)
      ?? this.took(runSync(this._words, lock(this._words, MUTEX, deadlineOf(what, timeout))));
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    if (options === undefined) {
      return this.quick(true)
        ?? this.took(await runAsync(this._words, lock(this._words, MUTEX, undefined)));
    }
    const what = `${this.constructor.name}.acquireAsync()`;
    const { blocking, timeout } = acquireArgs(options, what);
    return this.quick(blocking)
      ?? this.took(
        await runAsync(this._words, lock(this._words, MUTEX, deadlineOf(what, timeout))),
      );
  }

  /** Releases the lock. */
  abstract release(): void;

  /** Acquires and returns a `Disposable` that releases: `using _ = lock.hold();`. */
  hold(): Disposable {
    this.acquire();
    return disposable(() => this.release());
  }

  /** Whether the lock is held by anyone. */
  locked(): boolean {
    return Atomics.load(this._words.i32, MUTEX) !== 0;
  }

  protected describe(): string {
    return this.locked() ? "locked" : "unlocked";
  }

  /** @internal Whether this thread holds the lock (for RLock and Condition). */
  _isOwned(): boolean {
    return holder(this._words.i32, MUTEX) === myToken();
  }
}
