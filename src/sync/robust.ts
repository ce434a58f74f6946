/**
 * A robust mutex in one 32-bit word: 0 when free, else the holder's owner token (owner.ts), with
 * the sign bit set while others wait. A waiter wakes at least every `LIVENESS_CHECK_MS` to see whether
 * the holder still lives; one whose holder died takes the lock over, and is told so (a robust
 * pthread mutex's `EOWNERDEAD`). Used by the rings under queues and pipes and by `Lock`/`RLock`.
 * @module
 */
import { remaining, type Wait, type Words } from "./futex.ts";
import { endIfTerminated, LIVENESS_CHECK_MS, myToken, tokenAlive } from "./owner.ts";

const WAITERS = 1 << 31;
/**
 * How long a blocking waiter that finds the lock held pauses (reading no shared memory) before
 * it flags itself and spins: see `lock`.
 */
const BACKOFF_MS = 0.01;

/** The result of a robust acquire. */
export const TAKEN = 1, TAKEN_FROM_DEAD = 2, TIMED_OUT_LOCK = 0;
export type LockResult = typeof TAKEN | typeof TAKEN_FROM_DEAD | typeof TIMED_OUT_LOCK;

/** The earlier of `deadline` and the next liveness check. */
export function nextCheck(deadline: number | undefined): number {
  const check = performance.now() + LIVENESS_CHECK_MS;
  return deadline === undefined ? check : Math.min(deadline, check);
}

/**
 * Takes the lock at once if it is free. A thread child that was killed or terminated ends here
 * (holding nothing): so a child looping over the library's locks, queues and pipes can be
 * stopped even where the runtime cannot stop a busy worker (Deno).
 */
export function tryLock(i32: Int32Array, i: number): boolean {
  endIfTerminated();
  return Atomics.compareExchange(i32, i, 0, myToken()) === 0;
}

/** The token of the holder of the lock in word `i` (0: free). */
export function holder(i32: Int32Array, i: number): number {
  return Atomics.load(i32, i) & ~WAITERS;
}

/** Whether the lock in word `i` is held by an owner that lives. */
export function holderAlive(i32: Int32Array, i: number): boolean {
  const token = holder(i32, i);
  return token !== 0 && tokenAlive(token);
}

/** Takes the lock in word `i` over from a holder that died; false if it is not so. */
export function takeFromDead(i32: Int32Array, i: number): boolean {
  const v = Atomics.load(i32, i);
  if (v === 0 || tokenAlive(v & ~WAITERS)) return false;
  return Atomics.compareExchange(i32, i, v, myToken() | (v & WAITERS)) === v;
}

/**
 * Takes the lock in word `i` of `words`, waiting until `deadline`; `spin` first spins briefly.
 * Says whether it took the lock from a holder that had died.
 */
export function* lock(
  words: Words,
  i: number,
  deadline: number | undefined,
  spin = false,
): Generator<Wait, LockResult, void> {
  const i32 = words.i32, me = myToken();
  if (Atomics.compareExchange(i32, i, 0, me) === 0) return TAKEN;
  if (spin) {
    const held = Atomics.load(i32, i);
    if (held !== 0) yield { i, expected: held, deadline, spin: true };
    if (Atomics.compareExchange(i32, i, 0, me) === 0) return TAKEN;
  }
  for (;;) {
    const v = Atomics.load(i32, i);
    if (v === 0) {
      // Taken after a wait: others may wait too, so keep the flag (the release wakes one).
      if (Atomics.compareExchange(i32, i, 0, me | WAITERS) === 0) return TAKEN;
      continue;
    }
    if (!tokenAlive(v & ~WAITERS)) {
      if (Atomics.compareExchange(i32, i, v, me | WAITERS) === v) return TAKEN_FROM_DEAD;
      continue;
    }
    // Held: back off first (10 us, reading nothing shared). A waiter back at once (from a spin
    // that saw the holder release and take again) touches the lock's word at each of the holder's
    // acquires and takes the lock from it every few of them: under contention a handoff and a
    // wake per few critical sections, not per several hundred. Measured on Deno thread children
    // (1e6 against 1e6 locked updates): 20k-47k handoffs per child against 1k-2k in "process"
    // children, whose liveness check (a read of /proc) happened to pause them; A/B 161 -> 134 ms.
    yield { i, expected: v, deadline, pause: BACKOFF_MS };
    if (Atomics.load(i32, i) === 0) continue;
    if ((v & WAITERS) === 0 && Atomics.compareExchange(i32, i, v, v | WAITERS) !== v) continue;
    if (remaining(deadline) === 0) return TIMED_OUT_LOCK;
    yield { i, expected: v | WAITERS, deadline: nextCheck(deadline) };
  }
}

/** Frees the lock in word `i`; returns the token that held it (0 if it was free). */
export function unlock(words: Words, i: number): number {
  const prev = Atomics.exchange(words.i32, i, 0);
  if (prev & WAITERS) words.wake(i, 1);
  return prev & ~WAITERS;
}
