/**
 * Proxies of a manager's synchronization primitives: the lock family, `Condition`, `Event` and
 * `Barrier`.
 * @module
 */
import { checkTimeout } from "../core/deadline.ts";
import { acquireArgs } from "../sync/primitive.ts";
import { BaseProxy } from "./base.ts";

/** The lock family's proxy: `acquire`, `release`, `hold`. */
class Acquirable extends BaseProxy {
  /** Acquires it; false if `{ blocking: false }` or `timeout` ms could not. */
  acquire(options?: { blocking?: boolean; timeout?: number }): Promise<boolean> {
    return this._checkedCall("acquire", (what) => [acquireArgs(options, what)]) as Promise<
      boolean
    >;
  }
  /** Releases it. */
  release(): Promise<void> {
    return this._call("release") as Promise<void>;
  }
  /** Acquires it and gives what releases it: `await using _ = await lock.hold();`. */
  async hold(): Promise<AsyncDisposable> {
    await this.acquire();
    return { [Symbol.asyncDispose]: () => this.release() };
  }
}

/**
 * A proxy of a manager's `Lock` (released by anyone, as CPython's).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const lock = await manager.Lock();
 * {
 *   await using _ = await lock.hold();
 *   console.log(await lock.locked()); // true
 * }
 * ```
 */
export class LockProxy extends Acquirable {
  /** Whether it is held. */
  locked(): Promise<boolean> {
    return this._call("locked") as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's `RLock`: re-entrant for the process that holds it (every async flow of
 * one process counts as that process, as one thread does in CPython).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const rlock = await manager.RLock();
 * await rlock.acquire();
 * await rlock.acquire();
 * await rlock.release();
 * await rlock.release();
 * ```
 */
export class RLockProxy extends LockProxy {}

/**
 * A proxy of a manager's `Semaphore`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const s = await manager.Semaphore(2);
 * await s.acquire();
 * console.log(await s.getValue()); // 1
 * ```
 */
export class SemaphoreProxy extends Acquirable {
  /** The counter. */
  getValue(): Promise<number> {
    return this._call("getValue") as Promise<number>;
  }
}

/**
 * A proxy of a manager's `BoundedSemaphore` (over-release fails).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const s = await manager.BoundedSemaphore(1);
 * await s.release().catch((e) => console.log(e.message)); // "...released more times than acquired"
 * ```
 */
export class BoundedSemaphoreProxy extends SemaphoreProxy {}

/**
 * A proxy of a manager's `Condition`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const cond = await manager.Condition();
 * await cond.acquire();
 * console.log(await cond.wait(10)); // false: nobody notified
 * await cond.release();
 * ```
 */
export class ConditionProxy extends Acquirable {
  /** Releases the lock, waits for a notify (false after `timeoutMs`), holds the lock again. */
  wait(timeoutMs?: number): Promise<boolean> {
    return this._checkedCall("wait", (what) => [checkTimeout(what, timeoutMs)]) as Promise<
      boolean
    >;
  }
  /**
   * Waits until `predicate()` (evaluated here, with the lock held) is true; false if it is still
   * false after `timeoutMs`.
   */
  async waitFor(predicate: () => unknown, timeoutMs?: number): Promise<boolean> {
    const end = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      if (await predicate()) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      await this.wait(Number.isFinite(left) ? left : undefined);
    }
  }
  /** Wakes up to `n` waiters. */
  notify(n = 1): Promise<void> {
    return this._call("notify", n) as Promise<void>;
  }
  /** Wakes every waiter. */
  notifyAll(): Promise<void> {
    return this._call("notifyAll") as Promise<void>;
  }
}

/**
 * A proxy of a manager's `Event`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const e = await manager.Event();
 * await e.set();
 * console.log(await e.wait(100)); // true
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Sets the flag, waking the waiters. */
  set(): Promise<void> {
    return this._call("set") as Promise<void>;
  }
  /** Clears the flag. */
  clear(): Promise<void> {
    return this._call("clear") as Promise<void>;
  }
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return this._call("isSet") as Promise<boolean>;
  }
  /** Waits until the flag is set; false after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<boolean> {
    return this._checkedCall("wait", (what) => [checkTimeout(what, timeoutMs)]) as Promise<
      boolean
    >;
  }
}

/**
 * A proxy of a manager's `Barrier` (`BrokenBarrierError` as for `Barrier`).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const b = await manager.Barrier(1);
 * console.log(await b.wait()); // 0
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** Waits for every party; this one's arrival index. */
  wait(timeoutMs?: number): Promise<number> {
    return this._checkedCall("wait", (what) => [checkTimeout(what, timeoutMs)]) as Promise<number>;
  }
  /** Breaks waiters out and makes it usable again. */
  reset(): Promise<void> {
    return this._call("reset") as Promise<void>;
  }
  /** Breaks it. */
  abort(): Promise<void> {
    return this._call("abort") as Promise<void>;
  }
  /** The number of parties. */
  parties(): Promise<number> {
    return this._call("parties") as Promise<number>;
  }
  /** How many wait now. */
  nWaiting(): Promise<number> {
    return this._call("nWaiting") as Promise<number>;
  }
  /** Whether it is broken. */
  broken(): Promise<boolean> {
    return this._call("broken") as Promise<boolean>;
  }
}
