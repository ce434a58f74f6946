/**
 * `RLock`: a recursive lock. Words: a robust mutex holding its owner's token (robust.ts), and
 * the depth.
 * @module
 */
import { Origin } from "../handles.ts";
import { deadlineOf, runAsync, runSync } from "./futex.ts";
import { myToken, ownerPid } from "./owner.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  Primitive,
  registerPrimitive,
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
  unlock,
} from "./robust.ts";

const STATE = 0, DEPTH = 3;

/**
 * A recursive lock (CPython's `multiprocessing.RLock`): its owner may take it again, and must
 * release it as many times.
 * @example
 * ```ts
 * import { RLock } from "multiproc";
 * const lock = new RLock();
 * lock.acquire();
 * lock.acquire(); // the owner takes it again
 * lock.release();
 * lock.release();
 * ```
 */
export class RLock extends Primitive {
  static readonly kind = "RLock";
  #ownerDied = false;

  constructor();
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(origin?: Origin<Revival>) {
    super(Origin.of(origin, new.target), 4);
  }

  /**
   * True when this process's (or thread's) latest first-level acquire took the lock from a
   * holder that had died holding it: what it protects may be half-updated.
   */
  get ownerDied(): boolean {
    return this.#ownerDied;
  }

  #mine(): boolean {
    return holder(this._words.i32, STATE) === myToken();
  }

  #own(result: LockResult): boolean {
    if (result === TIMED_OUT_LOCK) return false;
    this.#ownerDied = result === TAKEN_FROM_DEAD;
    Atomics.store(this._words.i32, DEPTH, 1);
    return true;
  }

  /** Takes it at once if this thread owns it or it is free; null if it has to wait. */
  #quick(blocking: boolean): boolean | null {
    const i32 = this._words.i32;
    if (this.#mine()) return (Atomics.add(i32, DEPTH, 1), true);
    if (tryLock(i32, STATE)) return this.#own(TAKEN);
    if (!blocking) return this.#own(takeFromDead(i32, STATE) ? TAKEN_FROM_DEAD : TIMED_OUT_LOCK);
    return null;
  }

  /** Takes the lock (again, if this thread owns it); blocks this thread. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options, "RLock.acquire()");
    return this.#quick(blocking)
      ?? this.#own(
        runSync(this._words, lock(this._words, STATE, deadlineOf("RLock.acquire()", timeout))),
      );
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options, "RLock.acquireAsync()");
    return this.#quick(blocking)
      ?? this.#own(
        await runAsync(
          this._words,
          lock(this._words, STATE, deadlineOf("RLock.acquireAsync()", timeout)),
        ),
      );
  }

  /** Releases one level; throws unless this thread owns the lock. */
  release(): void {
    const i32 = this._words.i32;
    if (!this.#mine()) {
      const owner = holder(i32, STATE);
      throw new Error(
        owner === 0
          ? "RLock.release(): the lock is not held; acquire() it first."
          : `RLock.release(): the lock is held by another process or thread (pid ${
            ownerPid(owner)
          }); only its owner may release it.`,
      );
    }
    if (Atomics.sub(i32, DEPTH, 1) > 1) return;
    unlock(this._words, STATE);
  }

  /** Acquires and returns a `Disposable` that releases: `using _ = lock.hold();`. */
  hold(): Disposable {
    this.acquire();
    return disposable(() => this.release());
  }

  /** Whether the lock is held by anyone. */
  locked(): boolean {
    return Atomics.load(this._words.i32, STATE) !== 0;
  }

  /** @internal Releases every level this thread holds; returns the depth (for Condition). */
  _releaseAll(): number {
    if (!this.#mine()) {
      throw new Error("Condition: wait() needs the lock held; acquire() it first.");
    }
    const depth = Atomics.load(this._words.i32, DEPTH);
    Atomics.store(this._words.i32, DEPTH, 1);
    this.release();
    return depth;
  }

  /** @internal Restores the depth after re-acquiring (for Condition). */
  _restore(depth: number): void {
    Atomics.store(this._words.i32, DEPTH, depth);
  }

  /** @internal Whether this thread owns the lock (for Condition). */
  _isOwned(): boolean {
    return this.#mine();
  }
}

registerPrimitive(RLock);
