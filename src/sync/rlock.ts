/**
 * `RLock`: a recursive lock. Words: a robust mutex holding its owner's token (robust.ts), and
 * the depth.
 * @module
 */
import { Origin, registerKind } from "../handles/handle.ts";
import { MUTEX, OwnedLock } from "./owned_lock.ts";
import { ownerPid } from "./owner.ts";
import type { Revival } from "./primitive.ts";
import { holder, type LockResult, unlock } from "./robust.ts";

const STATE = MUTEX, DEPTH = 3;

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
export class RLock extends OwnedLock {
  static readonly kind = "RLock";

  constructor();
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(origin?: Origin<Revival>) {
    super(Origin.ofNoArguments(origin, new.target), 4);
  }

  /** A first-level acquire: its owner holds it once. */
  protected override took(result: LockResult): boolean {
    if (!super.took(result)) return false;
    Atomics.store(this._words.i32, DEPTH, 1);
    return true;
  }

  /** Takes it again if this thread owns it; else as a `Lock` does. */
  protected override quick(blocking: boolean): boolean | null {
    if (this._isOwned()) return (Atomics.add(this._words.i32, DEPTH, 1), true);
    return super.quick(blocking);
  }

  /** Releases one level; throws unless this thread owns the lock. */
  release(): void {
    const i32 = this._words.i32;
    if (!this._isOwned()) {
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

  /** @internal Releases every level this thread holds; returns the depth (for Condition). */
  _releaseAll(): number {
    if (!this._isOwned()) {
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
}

registerKind(RLock);
