/**
 * `Lock`: a mutex shared by every child and the parent of one context. One futex word holding
 * the holder's owner token (robust.ts): no syscall unless contended, and a lock whose holder
 * died is taken over by the next acquirer, which `ownerDied` tells.
 * @module
 */
import { Origin, registerKind } from "../handles/handle.ts";
import { MUTEX, OwnedLock } from "./owned_lock.ts";
import type { Revival } from "./primitive.ts";
import { unlock } from "./robust.ts";

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
export class Lock extends OwnedLock {
  static readonly kind = "Lock";

  constructor();
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(origin?: Origin<Revival>) {
    super(Origin.ofNoArguments(origin, new.target), 1);
  }

  /** Frees the lock (from any process, as CPython's); throws if it is not held. */
  release(): void {
    if (unlock(this._words, MUTEX) === 0) {
      throw new Error("Lock.release(): the lock is not held; acquire() it first.");
    }
  }
}

registerKind(Lock);
