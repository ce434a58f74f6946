/**
 * `Condition`: waiting for a state that other processes change under a shared lock. Words: a
 * sequence number that waiters sleep on, one word packing waiters (low 16 bits) and wake tokens
 * (high 16 bits), so that `notify(n)` wakes exactly `n` waiters even when some wait by polling,
 * and a table of who waits (the first 32 waiters' owner tokens): a waiter that died waiting (a
 * killed child) is taken off the count by the next `notify()` or `wait()` that looks (at most
 * every 100 ms per object), so that no wake token goes to it -- and then, spuriously, to
 * whoever waits next.
 * @module
 */
import { shown } from "../core/options.ts";
import { memoryOf } from "../core/start_method.ts";
import { Origin, registerKind } from "../handles/handle.ts";
import { deadlineOf, remaining } from "./futex.ts";
import { Lock } from "./lock.ts";
import { LIVENESS_CHECK_MS, myToken, tokenAlive } from "./owner.ts";
import { type AcquireOptions, Primitive, type Revival } from "./primitive.ts";
import { RLock } from "./rlock.ts";

const SEQ = 0, PACK = 1, WAITING = 2;
const TOKEN = 1 << 16, MASK = 0xffff;
/** How many waiters the table of who waits holds (more wait unlisted, as all did before). */
const LISTED = 32;
/**
 * Marks a listed waiter that is leaving the count (owner tokens have 31 bits): a waiter that
 * died so marked may have left it already, so the count is not lowered for it again.
 */
const LEAVING = 1 << 31;

/**
 * A condition variable over a `Lock` or `RLock` (a new `RLock` by default).
 * @example
 * ```ts
 * import { Condition, Value } from "multiproc";
 * const cond = new Condition();
 * const ready = new Value("i", 0);
 * // a consumer (here, or in a child given `cond` and `ready`):
 * const waiting = (async () => {
 *   cond.acquire();
 *   try {
 *     return await cond.waitFor(() => ready.value === 1, 1000);
 *   } finally {
 *     cond.release();
 *   }
 * })();
 * // a producer:
 * await cond.acquireAsync();
 * ready.value = 1;
 * cond.notifyAll();
 * cond.release();
 * console.log(await waiting); // true
 * ```
 */
export class Condition extends Primitive {
  static readonly kind = "Condition";
  /** The lock this condition uses. */
  readonly lock: Lock | RLock;

  constructor(lock?: Lock | RLock);
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(a?: Lock | RLock | Origin<Revival>) {
    const origin = Origin.of<Revival>(a, new.target);
    super(origin, WAITING + LISTED);
    if (origin.revived) {
      this.lock = (origin.revived.extra as { lock: Lock | RLock }).lock;
      return;
    }
    // null, as CPython's None, asks for the default lock too.
    const lock = a as Lock | RLock | undefined | null;
    if (lock != null && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      const given: unknown = lock;
      const named = typeof given === "object" && given !== null ? given.constructor?.name : "";
      throw new TypeError(
        `Condition(lock): lock must be a Lock or an RLock of the same context (or none, for a `
          + `new RLock), got ${named ? `a ${named}` : shown(given)}`,
      );
    }
    this.lock = lock ?? new RLock(Origin.fresh(this._method));
    if (memoryOf(this.lock._method) !== memoryOf(this._method)) {
      throw new TypeError(
        `Condition(lock): the lock was made for the "${this.lock._method}" start method and this `
          + `condition for "${this._method}"; make both in the same context.`,
      );
    }
  }

  protected override handleExtra(): unknown {
    return { lock: this.lock };
  }

  /** Acquires the underlying lock (blocking this thread). */
  acquire(options?: AcquireOptions): boolean {
    return this.lock.acquire(options);
  }

  /** Acquires the underlying lock without blocking the event loop. */
  acquireAsync(options?: AcquireOptions): Promise<boolean> {
    return this.lock.acquireAsync(options);
  }

  /** Releases the underlying lock. */
  release(): void {
    this.lock.release();
  }

  /** Acquires the lock and returns a `Disposable` that releases it. */
  hold(): Disposable {
    return this.lock.hold();
  }

  protected describe(): string {
    return String(this.lock);
  }

  #checkHeld(what: string): void {
    if (!this.lock._isOwned()) {
      throw new Error(
        `Condition.${what}(): the lock must be held by this process or thread; acquire() it first.`,
      );
    }
  }

  /** When this object last looked for waiters that died (`performance.now()`). */
  #lookedAt = -Infinity;

  /**
   * Takes waiters that died waiting off the count (and any wake token beyond the waiters left),
   * unless this object looked less than `LIVENESS_CHECK_MS` ago.
   */
  #dropDeadWaiters(): void {
    const now = performance.now();
    if (now - this.#lookedAt < LIVENESS_CHECK_MS) return;
    this.#lookedAt = now;
    const i32 = this._words.i32;
    for (let i = WAITING; i < WAITING + LISTED; i++) {
      const entry = Atomics.load(i32, i);
      if (entry === 0 || tokenAlive(entry & ~LEAVING)) continue;
      if (Atomics.compareExchange(i32, i, entry, 0) !== entry || (entry & LEAVING) !== 0) continue;
      for (;;) {
        const p = Atomics.load(i32, PACK);
        const waiters = Math.max(0, (p & MASK) - 1);
        const next = (Math.min(p >>> 16, waiters) * TOKEN) | waiters;
        if (Atomics.compareExchange(i32, PACK, p, next) === p) break;
      }
    }
  }

  /** Lists this waiter in the table of who waits: its entry, or -1 if the table is full. */
  #list(): number {
    const i32 = this._words.i32;
    const token = myToken();
    for (let i = WAITING; i < WAITING + LISTED; i++) {
      if (Atomics.load(i32, i) === 0 && Atomics.compareExchange(i32, i, 0, token) === 0) return i;
    }
    return -1;
  }

  /** Takes a wake token if there is one (leaving the count); `listed`: this waiter's entry. */
  #takeToken(listed: number): boolean {
    const i32 = this._words.i32;
    for (;;) {
      const p = Atomics.load(i32, PACK);
      if (p >>> 16 === 0) return false;
      if (listed >= 0) Atomics.or(i32, listed, LEAVING);
      if (Atomics.compareExchange(i32, PACK, p, p - TOKEN - 1) === p) return true;
      if (listed >= 0) Atomics.and(i32, listed, ~LEAVING);
    }
  }

  /** A timed-out waiter leaves; if a token was meant for it meanwhile, it takes that instead. */
  #leave(listed: number): boolean {
    const i32 = this._words.i32;
    if (listed >= 0) Atomics.or(i32, listed, LEAVING);
    for (;;) {
      const p = Atomics.load(i32, PACK);
      const tokens = p >>> 16, waiters = p & MASK;
      const next = tokens >= waiters ? p - TOKEN - 1 : p - 1;
      if (Atomics.compareExchange(i32, PACK, p, next) === p) return tokens >= waiters;
    }
  }

  /**
   * Releases the lock, waits for `notify()` (or the timeout), takes the lock again; resolves
   * false on timeout.
   */
  async wait(timeoutMs?: number): Promise<boolean> {
    this.#checkHeld("wait");
    const deadline = deadlineOf("Condition.wait()", timeoutMs);
    const w = this._words;
    // A wake token meant for a waiter that died would go to this one.
    if (Atomics.load(w.i32, PACK) >>> 16 > 0) this.#dropDeadWaiters();
    if ((Atomics.add(w.i32, PACK, 1) & MASK) === MASK) {
      Atomics.sub(w.i32, PACK, 1);
      throw new RangeError("Condition.wait(): more than 65535 waiters");
    }
    const listed = this.#list();
    const depth = this.lock instanceof RLock ? this.lock._releaseAll() : (this.lock.release(), 1);
    let woken = false;
    try {
      for (;;) {
        const seq = Atomics.load(w.i32, SEQ);
        if (this.#takeToken(listed)) {
          woken = true;
          break;
        }
        const left = remaining(deadline);
        if (left === 0) {
          woken = this.#leave(listed);
          break;
        }
        await w.waitAsync(SEQ, seq, left);
      }
    } finally {
      if (listed >= 0) Atomics.store(w.i32, listed, 0);
      await this.lock.acquireAsync();
      if (this.lock instanceof RLock) this.lock._restore(depth);
    }
    return woken;
  }

  /** Waits until `predicate()` is true (checked with the lock held); false on timeout. */
  async waitFor(predicate: () => unknown, timeoutMs?: number): Promise<boolean> {
    if (typeof predicate !== "function") {
      throw new TypeError(
        `Condition.waitFor(predicate): predicate must be a function (waitFor(() => ready.value `
          + `=== 1)), got ${shown(predicate)}`,
      );
    }
    const deadline = deadlineOf("Condition.waitFor()", timeoutMs);
    let result = predicate();
    while (!result) {
      const left = remaining(deadline);
      if (left === 0) break;
      await this.wait(left);
      result = predicate();
    }
    return Boolean(result);
  }

  /**
   * Wakes up to `n` waiters (the lock must be held). As CPython's, `n` <= 0 wakes none and a
   * fraction counts up (`notify(1.5)` wakes two).
   */
  notify(n = 1): void {
    this.#checkHeld("notify");
    if (typeof n !== "number" || Number.isNaN(n)) {
      throw new (typeof n === "number" ? RangeError : TypeError)(
        `Condition.notify(n): n must be a number of waiters to wake (notify(2), or notifyAll() `
          + `for all), got ${shown(n)}`,
      );
    }
    this.#dropDeadWaiters();
    const i32 = this._words.i32;
    const want = Math.ceil(n);
    let k = 0;
    for (;;) {
      const p = Atomics.load(i32, PACK);
      k = Math.max(0, Math.min(want, (p & MASK) - (p >>> 16)));
      if (k === 0) return;
      if (Atomics.compareExchange(i32, PACK, p, p + k * TOKEN) === p) break;
    }
    Atomics.add(i32, SEQ, 1);
    this._words.wake(SEQ, k);
  }

  /** Wakes every waiter (the lock must be held). */
  notifyAll(): void {
    this.notify(MASK);
  }
}

registerKind(Condition);
