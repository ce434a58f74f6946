/**
 * `RLock`: a recursive lock. Words: mutex state, owner pid, owner isolate token, depth.
 * @module
 */
import { deadlineOf, remaining, runAsync, runSync, type Wait } from "./futex.ts";
import {
  acquireArgs,
  type AcquireOptions,
  disposable,
  ownerId,
  Primitive,
  registerPrimitive,
} from "./primitive.ts";

const STATE = 0, PID = 1, TOKEN = 2, DEPTH = 3;

/**
 * A lock its owner may take again; each `acquire()` needs its `release()`.
 * @example
 * ```ts
 * import { RLock } from "multiproc";
 * const lock = new RLock();
 * lock.acquire();
 * lock.acquire(); // the owner may re-enter
 * lock.release();
 * lock.release();
 * ```
 */
export class RLock extends Primitive {
  static readonly kind = "RLock";

  constructor() {
    super(new.target, 4);
  }

  #mine(): boolean {
    const [pid, token] = ownerId();
    const i32 = this._words.i32;
    return Atomics.load(i32, STATE) !== 0 && Atomics.load(i32, PID) === pid
      && Atomics.load(i32, TOKEN) === token;
  }

  #own(): true {
    const [pid, token] = ownerId();
    const i32 = this._words.i32;
    Atomics.store(i32, PID, pid);
    Atomics.store(i32, TOKEN, token);
    Atomics.store(i32, DEPTH, 1);
    return true;
  }

  *#take(deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this._words.i32;
    while (Atomics.exchange(i32, STATE, 2) !== 0) {
      if (remaining(deadline) === 0) return false;
      yield { i: STATE, expected: 2, deadline };
    }
    return this.#own();
  }

  /** Takes it at once if this thread owns it or it is free; null if it has to wait. */
  #quick(): boolean | null {
    const i32 = this._words.i32;
    if (this.#mine()) return (Atomics.add(i32, DEPTH, 1), true);
    if (Atomics.compareExchange(i32, STATE, 0, 1) === 0) return this.#own();
    return null;
  }

  /** Takes the lock (again, if this thread owns it); blocks this thread. */
  acquire(options?: AcquireOptions): boolean {
    const { blocking, timeout } = acquireArgs(options);
    return this.#quick() ?? (blocking && runSync(this._words, this.#take(deadlineOf(timeout))));
  }

  /** Takes the lock without blocking the event loop. */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const { blocking, timeout } = acquireArgs(options);
    return this.#quick()
      ?? (blocking && await runAsync(this._words, this.#take(deadlineOf(timeout))));
  }

  /** Releases one level; throws unless this thread owns the lock. */
  release(): void {
    const i32 = this._words.i32;
    if (!this.#mine()) {
      throw new Error(
        Atomics.load(i32, STATE) === 0
          ? "RLock.release(): the lock is not held; acquire() it first."
          : `RLock.release(): the lock is held by another process or thread (pid ${
            Atomics.load(i32, PID)
          }); only its owner may release it.`,
      );
    }
    if (Atomics.sub(i32, DEPTH, 1) > 1) return;
    Atomics.store(i32, PID, 0);
    Atomics.store(i32, TOKEN, 0);
    if (Atomics.exchange(i32, STATE, 0) === 2) this._words.wake(STATE, 1);
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

registerPrimitive(RLock.kind, () => new RLock());
