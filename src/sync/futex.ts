/**
 * Waiting on a 32-bit word of shared memory, and waking its waiters: `Atomics.wait`/`notify`
 * on a SharedArrayBuffer, the futex syscall on native memory (where `Atomics.wait` throws and
 * `Atomics.notify` wakes nobody). The one kernel under every lock, event, condition and barrier.
 * @module
 */
import { deadlineOf, remaining } from "../core/deadline.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { warnIfStarting } from "../core/starting.ts";
import type { Block } from "../memory/arena.ts";
import { exitNow, parentGone } from "../runtime/host.ts";
import { native } from "../runtime/native/mod.ts";
import { endIfTerminated, isThreadChild, LIVENESS_CHECK_MS } from "./owner.ts";

const INT_MAX = 0x7fffffff;
const PARENT_CHECK_MS = 250;
/**
 * How long a waiter spins before it sleeps (a time, not a count: a load costs 3-20 ns, by
 * runtime).
 */
const SPIN_MS = 0.02;

/** Int32 words over a block, with wait and wake. */
export class Words {
  readonly i32: Int32Array;
  readonly #address: bigint | null;

  constructor(block: Pick<Block, "buffer" | "offset" | "address">, count: number) {
    this.i32 = new Int32Array(block.buffer, block.offset, count);
    this.#address = block.address === null ? null : block.address + BigInt(block.offset);
  }

  /**
   * Blocks this thread while word `i` equals `expected`, at most `timeoutMs` (callers loop: a
   * wait may end early). A blocked process child wakes every 250 ms to see whether its parent
   * is gone, and ends if so: a blocked event loop cannot hear the channel close.
   */
  wait(i: number, expected: number, timeoutMs?: number): void {
    if (this.spin(i, expected)) return;
    if (this.#address === null) Atomics.wait(this.i32, i, expected, timeoutMs ?? Infinity);
    else {
      native().futexWait(
        this.#address + BigInt(4 * i),
        expected,
        Math.min(timeoutMs ?? Infinity, PARENT_CHECK_MS),
      );
      if (parentGone()) exitNow(1);
    }
  }

  /**
   * Spins up to 20 us while word `i` equals `expected`; true if it changed. A change that comes
   * that soon (a pipe's echo, a lock held briefly) then costs no sleep and no wake-up.
   */
  spin(i: number, expected: number): boolean {
    const i32 = this.i32;
    const end = performance.now() + SPIN_MS;
    do {
      for (let k = 0; k < 64; k++) if (Atomics.load(i32, i) !== expected) return true;
    } while (performance.now() < end);
    return false;
  }

  /**
   * Resolves when word `i` may no longer equal `expected` (or after `timeoutMs`), without
   * blocking the event loop. On native memory it polls with a growing pause (<= 4 ms).
   */
  async waitAsync(i: number, expected: number, timeoutMs?: number): Promise<void> {
    if (this.#address === null) {
      const r = Atomics.waitAsync(this.i32, i, expected, timeoutMs ?? Infinity);
      if (r.async) await keepAlive(r.value);
      return;
    }
    const end = deadlineOf("Words.waitAsync()", timeoutMs);
    for (let pause = 0; Atomics.load(this.i32, i) === expected; pause = Math.min(4, pause + 0.25)) {
      const left = remaining(end) ?? Infinity;
      if (left === 0) return;
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    }
  }

  /** Wakes up to `count` waiters of word `i` (all by default). */
  wake(i: number, count = INT_MAX): void {
    if (this.#address === null) Atomics.notify(this.i32, i, count);
    else native().futexWake(this.#address + BigInt(4 * i), count);
  }
}

// The deadline helpers, for the primitives, queues and pipes that import them from here.
export { deadlineOf, remaining } from "../core/deadline.ts";

/**
 * What a waiting operation waits for: word `i` to change from `expected`, until `deadline`.
 * With `spin`, only a short spin, before the operation counts itself among the sleepers (whom
 * the other side must wake with a syscall): a change that comes within microseconds then costs
 * neither side a system call.
 */
export interface Wait {
  i: number;
  expected: number;
  deadline: number | undefined;
  spin?: boolean;
  /**
   * Instead of waiting: a blocking waiter's back-off of that many milliseconds, reading no shared
   * memory (an async waiter goes on at once).
   */
  pause?: number;
}

/**
 * Runs an operation written once as a generator that yields what it waits for, blocking this
 * thread while it waits (`acquire`, `get`, `recv`).
 */
export function runSync<T>(words: Words, op: Generator<Wait, T, void>): T {
  for (let r = op.next();; r = op.next()) {
    if (r.done) return r.value;
    if (r.value.pause !== undefined) pause(r.value.pause);
    else if (r.value.spin) words.spin(r.value.i, r.value.expected);
    else {
      warnIfStarting();
      words.wait(r.value.i, r.value.expected, bounded(remaining(r.value.deadline)));
      endIfTerminated();
    }
  }
}

/** Busy-waits `ms` milliseconds without touching shared memory. */
function pause(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A thread child wakes at least every `LIVENESS_CHECK_MS` to see whether it was ended. */
function bounded(ms: number | undefined): number | undefined {
  if (!isThreadChild()) return ms;
  return ms === undefined ? LIVENESS_CHECK_MS : Math.min(ms, LIVENESS_CHECK_MS);
}

/** Runs the same operation without blocking the event loop (`acquireAsync`, `getAsync`, ...). */
export async function runAsync<T>(words: Words, op: Generator<Wait, T, void>): Promise<T> {
  for (let r = op.next();; r = op.next()) {
    if (r.done) return r.value;
    if (!r.value.spin && r.value.pause === undefined) {
      await words.waitAsync(r.value.i, r.value.expected, bounded(remaining(r.value.deadline)));
      endIfTerminated();
    }
  }
}
