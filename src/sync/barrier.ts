/**
 * `Barrier`: `parties` processes wait until all have arrived. Words: a ticket counter (each
 * arrival takes the next ticket; ticket / parties is its generation), the number of generations
 * released, a sequence number waiters sleep on, the broken flag and an epoch that `reset()` and
 * `abort()` advance.
 * @module
 */
import { BrokenBarrierError } from "../core/errors.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import { Origin, registerKind } from "../handles/handle.ts";
import { findTarget, markedTarget, type TargetRef } from "../targets/task.ts";
import { deadlineOf, remaining } from "./futex.ts";
import { Primitive, type Revival } from "./primitive.ts";

const TICKETS = 0, RELEASED = 1, SEQ = 2, BROKEN = 3, EPOCH = 4, PARTIES = 5;

/**
 * Options of `new Barrier()`: an `action` run by one party when all arrive (exported and marked
 * with `task()` to run in a child), and a default `timeout` in milliseconds for `wait`.
 * @example
 * ```ts
 * import { Barrier, task } from "multiproc";
 * export const announce = task(import.meta, () => console.log("all arrived"));
 * const barrier = new Barrier(3, { action: announce, timeout: 5000 });
 * ```
 */
export interface BarrierOptions {
  /**
   * Called once per generation by the last process to arrive, before the others are released.
   * To run in a child it must be marked where it is defined: `task(import.meta, fn)`.
   */
  action?: () => unknown;
  /** Default timeout of `wait()` in milliseconds. */
  timeout?: number;
}

type ActionRef = TargetRef | null;

const BARRIER_OPTIONS = {
  action: true,
  timeout: true,
} as const satisfies OptionNames<BarrierOptions>;

/**
 * A barrier for a fixed number of parties.
 * @example
 * ```ts
 * import { Barrier } from "multiproc";
 * const barrier = new Barrier(2);
 * const [a, b] = await Promise.all([barrier.wait(), barrier.wait()]);
 * console.log(a + b); // 1: arrival indexes 0 and 1
 * ```
 */
export class Barrier extends Primitive {
  static readonly kind = "Barrier";
  readonly #timeout: number | undefined;
  #action: (() => unknown) | undefined;
  readonly #actionRef: ActionRef;

  constructor(parties: number, options?: BarrierOptions);
  /** @internal */
  constructor(origin: Origin<Revival>);
  constructor(a: number | Origin<Revival>, options: BarrierOptions = {}) {
    const origin = Origin.of<Revival>(a, new.target);
    super(origin, 6);
    const revived = origin.revived?.extra as
      | { timeout: number | undefined; action: ActionRef }
      | undefined;
    if (revived) {
      this.#timeout = revived.timeout;
      this.#actionRef = revived.action;
      return;
    }
    const parties = a as number;
    if (!Number.isInteger(parties) || parties < 1 || parties > 0xffff) {
      throw new (typeof parties === "number" ? RangeError : TypeError)(
        `Barrier(parties): parties must be an integer from 1 to 65535 (new Barrier(3)), got `
          + shown(parties),
      );
    }
    const { action, timeout } = checkOptions(
      options,
      BARRIER_OPTIONS,
      "Barrier",
      "{ timeout: 5000 }",
    );
    if (action !== undefined && typeof action !== "function") {
      throw new TypeError(
        `Barrier: action must be a function (new Barrier(3, { action: fn })), got ${shown(action)}`,
      );
    }
    deadlineOf("Barrier", timeout);
    this.#timeout = timeout;
    this.#action = action;
    this.#actionRef = (action && markedTarget(action)) ?? null;
    Atomics.store(this._words.i32, PARTIES, parties);
  }

  protected override handleExtra(): unknown {
    if (this.#action && !this.#actionRef) {
      throw new TypeError(
        `Barrier: its action '${this.#action.name || "<anonymous>"}' cannot go to a child: export `
          + `it and mark it with task(import.meta, fn) where it is defined, so a child can find it.`,
      );
    }
    return { timeout: this.#timeout, action: this.#actionRef };
  }

  /** How many must call `wait()` to pass. */
  get parties(): number {
    return Atomics.load(this._words.i32, PARTIES);
  }

  /** How many are waiting now (none while it is broken: its waiters have left, as CPython's). */
  get nWaiting(): number {
    if (this.broken) return 0;
    const i32 = this._words.i32;
    const n = Atomics.load(i32, TICKETS) - Atomics.load(i32, RELEASED) * this.parties;
    return Math.max(0, Math.min(n, this.parties - 1));
  }

  /** Whether the barrier is broken (by `abort()`, a timeout or a failing action). */
  get broken(): boolean {
    return Atomics.load(this._words.i32, BROKEN) === 1;
  }

  protected describe(): string {
    return `parties=${this.parties}, ${this.broken ? "broken" : `waiting=${this.nWaiting}`}`;
  }

  async #runAction(): Promise<void> {
    if (!this.#action && this.#actionRef) {
      this.#action = await findTarget(this.#actionRef, "Barrier action") as () => unknown;
    }
    await this.#action?.();
  }

  #signal(): void {
    Atomics.add(this._words.i32, SEQ, 1);
    this._words.wake(SEQ);
  }

  /**
   * Waits until `parties` have called `wait()`; resolves with this caller's arrival index
   * (0 ... parties-1). Rejects with `BrokenBarrierError` if the barrier is or becomes broken or
   * reset, or the timeout passes (which breaks it for everyone).
   */
  async wait(timeoutMs?: number): Promise<number> {
    const i32 = this._words.i32;
    const deadline = deadlineOf("Barrier.wait()", timeoutMs ?? this.#timeout);
    const epoch = Atomics.load(i32, EPOCH);
    if (this.broken) {
      throw new BrokenBarrierError("Barrier.wait(): the barrier is broken; reset() it.");
    }
    const parties = this.parties;
    const ticket = Atomics.add(i32, TICKETS, 1);
    const generation = Math.floor(ticket / parties), index = ticket % parties;
    const last = index === parties - 1;
    const gone = () => Atomics.load(i32, EPOCH) !== epoch || this.broken;
    // The last arrival waits for earlier generations to drain, then releases its own.
    for (;;) {
      const seq = Atomics.load(i32, SEQ);
      if (gone()) throw new BrokenBarrierError("Barrier.wait(): the barrier was broken or reset.");
      const released = Atomics.load(i32, RELEASED);
      if (last ? released === generation : released > generation) break;
      const left = remaining(deadline);
      if (left === 0) {
        this.abort();
        throw new BrokenBarrierError("Barrier.wait(): timed out; the barrier is now broken.");
      }
      await this._words.waitAsync(SEQ, seq, left);
    }
    if (last) {
      try {
        await this.#runAction();
      } catch (error) {
        this.abort();
        throw error;
      }
      if (gone()) throw new BrokenBarrierError("Barrier.wait(): the barrier was broken or reset.");
      Atomics.add(i32, RELEASED, 1);
      this.#signal();
    }
    return index;
  }

  /** Returns the barrier to its initial state; current waiters get `BrokenBarrierError`. */
  reset(): void {
    const i32 = this._words.i32;
    Atomics.add(i32, EPOCH, 1);
    Atomics.store(i32, TICKETS, 0);
    Atomics.store(i32, RELEASED, 0);
    Atomics.store(i32, BROKEN, 0);
    this.#signal();
  }

  /** Breaks the barrier: current and future `wait()` calls reject until `reset()`. */
  abort(): void {
    Atomics.store(this._words.i32, BROKEN, 1);
    this.#signal();
  }
}

registerKind(Barrier);
