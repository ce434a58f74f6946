/**
 * The synchronization primitives a `SyncManager` owns, rebuilt on the manager's event loop: a
 * lock is owned by a caller (one connection: a process), and a caller lost mid-wait releases what
 * it held and breaks a barrier it waited at, so the other processes do not wait for a dead one.
 * @module
 */
import { BrokenBarrierError } from "../core/errors.ts";
import { shown } from "../core/options.ts";
import { type AcquireOptions, type Caller, Managed } from "./caller.ts";

/** `Lock` (`RLock` with `reentrant`): owned by a caller. */
export class ManagedLock extends Managed {
  static readonly exposed = ["acquire", "release", "locked"];
  owner: number | null = null;
  count = 0;
  readonly #reentrant: boolean;
  constructor(reentrant = false) {
    super();
    this.#reentrant = reentrant;
  }
  tryAcquire(c: Caller): boolean {
    if (this.owner === null) {
      this.owner = c.id;
      this.count = 1;
      return true;
    }
    if (this.#reentrant && this.owner === c.id) return ++this.count > 0;
    return false;
  }
  acquire(c: Caller, o: AcquireOptions) {
    if (o?.blocking === false) return this.tryAcquire(c);
    const what = `${this.#reentrant ? "RLockProxy" : "LockProxy"}.acquire()`;
    return this.waiters.until(() => this.tryAcquire(c), o?.timeout, c, what);
  }
  release(c: Caller) {
    const name = this.#reentrant ? "RLockProxy" : "LockProxy";
    if (this.owner === null) {
      throw new Error(`${name}.release(): the lock is not held; acquire() it first.`);
    }
    if (this.#reentrant && this.owner !== c.id) {
      throw new Error(`${name}.release(): the lock is held by another process.`);
    }
    if (--this.count > 0) return;
    this.owner = null;
    this.waiters.wakeAll();
  }
  locked() {
    return this.owner !== null;
  }
  override lost(c: Caller) {
    if (this.owner !== c.id) return;
    this.owner = null;
    this.count = 0;
    this.waiters.wakeAll();
  }
}

/** `Semaphore(value)` (`BoundedSemaphore` with `bounded`). */
export class ManagedSemaphore extends Managed {
  static readonly exposed = ["acquire", "release", "getValue"];
  #value: number;
  readonly #bound: number | null;
  constructor(value: unknown = 1, bounded = false) {
    super();
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(`manager.Semaphore(value): an integer >= 0, got ${shown(value)}`);
    }
    this.#value = value as number;
    this.#bound = bounded ? this.#value : null;
  }
  acquire(c: Caller, o: AcquireOptions) {
    const take = () => this.#value > 0 && this.#value-- > 0;
    if (o?.blocking === false) return take();
    return this.waiters.until(take, o?.timeout, c, "SemaphoreProxy.acquire()");
  }
  release() {
    if (this.#bound !== null && this.#value >= this.#bound) {
      throw new Error("BoundedSemaphoreProxy.release(): released more times than acquired");
    }
    this.#value++;
    this.waiters.wakeAll();
  }
  getValue() {
    return this.#value;
  }
}

/** `Event`. */
export class ManagedEvent extends Managed {
  static readonly exposed = ["set", "clear", "isSet", "wait"];
  #flag = false;
  set() {
    this.#flag = true;
    this.waiters.wakeAll();
  }
  clear() {
    this.#flag = false;
  }
  isSet() {
    return this.#flag;
  }
  wait(c: Caller, timeoutMs?: number) {
    return this.waiters.until(() => this.#flag, timeoutMs, c, "EventProxy.wait()");
  }
}

/** `Condition(lock?)`: over a manager's `Lock`/`RLock` (a new `RLock` by default). */
export class ManagedCondition extends Managed {
  static readonly exposed = ["acquire", "release", "wait", "notify", "notifyAll"];
  readonly lock: ManagedLock;
  readonly #sleepers: { notified: boolean }[] = [];
  constructor(lock?: unknown) {
    super();
    if (lock !== undefined && !(lock instanceof ManagedLock)) {
      throw new TypeError("manager.Condition(lock): give a Lock or RLock of the same manager");
    }
    this.lock = lock ?? new ManagedLock(true);
  }
  acquire(c: Caller, o: AcquireOptions) {
    return this.lock.acquire(c, o);
  }
  release(c: Caller) {
    this.lock.release(c);
  }
  #checkOwner(c: Caller, what: string) {
    if (this.lock.owner !== c.id) {
      throw new Error(
        `ConditionProxy.${what}(): the lock is not held by this process; acquire() it first.`,
      );
    }
  }
  async wait(c: Caller, timeoutMs?: number) {
    this.#checkOwner(c, "wait");
    const me = { notified: false };
    this.#sleepers.push(me);
    const depth = this.lock.count;
    this.lock.count = 1;
    this.lock.release(c);
    try {
      return await this.waiters.until(() => me.notified, timeoutMs, c, "ConditionProxy.wait()");
    } finally {
      const at = this.#sleepers.indexOf(me);
      if (at >= 0) this.#sleepers.splice(at, 1);
      if (!c.lost) {
        await this.lock.acquire(c, undefined);
        this.lock.count = depth;
      }
    }
  }
  notify(c: Caller, n = 1) {
    this.#checkOwner(c, "notify");
    for (const s of this.#sleepers) {
      if (n <= 0) break;
      if (!s.notified) {
        s.notified = true;
        n--;
      }
    }
    this.waiters.wakeAll();
  }
  notifyAll(c: Caller) {
    this.notify(c, Infinity);
  }
  override lost(c: Caller) {
    this.lock.lost(c);
  }
}

interface Round {
  count: number;
  released: boolean;
  broken: boolean;
}

/** `Barrier(parties, { timeout })`: a caller lost while waiting breaks it. */
export class ManagedBarrier extends Managed {
  static readonly exposed = ["wait", "reset", "abort", "parties", "nWaiting", "broken"];
  readonly #parties: number;
  readonly #timeout: number | undefined;
  #round: Round = { count: 0, released: false, broken: false };
  constructor(parties: unknown, options?: { timeout?: number }) {
    super();
    if (!Number.isInteger(parties) || (parties as number) < 1) {
      throw new RangeError(`manager.Barrier(parties): an integer >= 1, got ${shown(parties)}`);
    }
    this.#parties = parties as number;
    this.#timeout = options?.timeout;
  }
  async wait(c: Caller, timeoutMs?: number) {
    const r = this.#round;
    if (r.broken) throw new BrokenBarrierError("BarrierProxy.wait(): the barrier is broken");
    const index = r.count++;
    if (r.count === this.#parties) {
      r.released = true;
      this.#round = { count: 0, released: false, broken: false };
      this.waiters.wakeAll();
      return index;
    }
    let passed = false;
    try {
      passed = await this.waiters.until(
        () => r.released || r.broken,
        timeoutMs ?? this.#timeout,
        c,
        "BarrierProxy.wait()",
      );
    } finally {
      if (!r.released && !passed) this.#break(r);
    }
    if (r.released) return index;
    throw new BrokenBarrierError(
      passed ? "BarrierProxy.wait(): the barrier was broken" : "BarrierProxy.wait(): timed out",
    );
  }
  #break(r: Round) {
    r.broken = true;
    this.waiters.wakeAll();
  }
  reset() {
    if (this.#round.count > 0 || this.#round.broken) this.#break(this.#round);
    this.#round = { count: 0, released: false, broken: false };
  }
  abort() {
    this.#break(this.#round);
  }
  parties() {
    return this.#parties;
  }
  nWaiting() {
    return this.#round.released || this.#round.broken ? 0 : this.#round.count;
  }
  broken() {
    return this.#round.broken;
  }
}

/** The manager's own types, by type id. */
