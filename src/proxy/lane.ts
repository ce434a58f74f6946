/**
 * A proxy's fast lane to a manager on the same machine: 64 KB of shared memory per link that
 * carries one call at a time, its caller waiting for the answer in place, so a round trip costs
 * no wake-up of either event loop (a socket's costs 20-90 us here, as much as CPython's whole
 * proxy call). The socket stays the way in: a link opens its lane through it, a manager that has gone idle is
 * woken through it, and an answer the caller stopped waiting for (a lock held for long) or that
 * does not fit comes back through it. Links that cannot share memory with their manager (another
 * machine, no native layer) simply never get a lane.
 *
 * The state word moves: IDLE -> REQUEST (caller wrote) -> RUNNING (manager took it) -> DONE (answer
 * written; the caller reads it and sets IDLE). A caller that stops waiting marks the call
 * PARKED (REQUEST -> WAITING, RUNNING -> PARKED), as does the manager when the call's method waits,
 * and the manager then answers through the socket; so does it when the answer does not fit,
 * setting IDLE first. A caller waits on the state word as every lock does (`Words`: a short spin,
 * then the futex) with SLEEPER set once it sleeps, and the manager wakes it at each move it makes. A manager about to sleep clears AWAKE and
 * looks once more; a caller writes its request and then reads AWAKE (both sequentially
 * consistent), so one of them sees the other.
 * @module
 */
import { type Mapping, native } from "../runtime/native/mod.ts";
import { Words } from "../sync/futex.ts";

/** Words of the lane's header. */
const STATE = 0, AWAKE = 1, REQUEST_LENGTH = 2, ANSWER_LENGTH = 3, CALL_ID = 4, NONCE = 5;
/** 1 while the caller sleeps on the state word (futex): the manager then wakes it at each move. */
const SLEEPER = 9;
/** States of `STATE`. */
const IDLE = 0, REQUEST = 1, RUNNING = 2, DONE = 3, WAITING = 4, PARKED = 5;
/** Bytes of a lane, its header, and of each of its two message areas. */
const LANE_SIZE = 64 * 1024, HEADER = 64, AREA = (LANE_SIZE - HEADER) / 2;
/** Where the request and the answer are written. */
const REQUEST_AT = HEADER, ANSWER_AT = HEADER + AREA;
/**
 * How long a caller waits for an answer in place before it waits through the socket (ms): while the
 * manager runs the call (a method that returns at once: the answer is microseconds away, unless
 * a pause of its garbage collector comes between), while the request waits for a manager that is
 * looking at its lanes, and while it waits for one woken through the socket. A method that waits
 * (a lock, a queue's `get`) is marked PARKED by the manager as it starts: no wait in place at all.
 */
const WAIT_RUNNING_MS = 10, WAIT_AWAKE_MS = 1, WAIT_ASLEEP_MS = 0.5;

/** What `CallerLane.post` says. */
export const NOT_POSTED = -1, ASLEEP = 0, AWAKE_NOW = 1;

/** What a manager needs to map a lane: the caller's memory, and a nonce proving it is that. */
export interface LaneRef {
  pid: number;
  fd: number;
  size: number;
  nonce: number[];
}

/** The lane's header words over `mapping`, with wait and wake (the futex of every lock). */
function headerOf(mapping: Mapping): Words {
  return new Words({ buffer: mapping.buffer, offset: 0, address: mapping.address }, HEADER / 4);
}

/** The caller's side of a lane. */
export class CallerLane {
  readonly #mapping: Mapping & { fd: number };
  readonly #header: Words;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #request: Uint8Array;
  readonly ref: LaneRef;
  #open = true;

  private constructor(mapping: Mapping & { fd: number }, pid: number) {
    this.#mapping = mapping;
    this.#header = headerOf(mapping);
    this.#words = this.#header.i32;
    this.#bytes = new Uint8Array(mapping.buffer, 0, LANE_SIZE);
    this.#request = this.#bytes.subarray(REQUEST_AT, REQUEST_AT + AREA);
    const nonce = Array.from(crypto.getRandomValues(new Int32Array(4)));
    this.#words.set(nonce, NONCE);
    this.ref = { pid, fd: mapping.fd, size: LANE_SIZE, nonce };
  }

  /** A new lane, or null where this process has no shared memory of its own to give. */
  static open(pid: number): CallerLane | null {
    try {
      return new CallerLane(native().createAnonymous(LANE_SIZE), pid);
    } catch {
      return null;
    }
  }

  /** Whether a call can go now: none is on the lane. */
  get idle(): boolean {
    return this.#open && Atomics.load(this.#words, STATE) === IDLE;
  }

  /**
   * Writes the request with `write` (its length, or -1 if it does not fit in the area it is
   * given) and posts it: `NOT_POSTED` (send it through the socket), else whether the manager
   * is `AWAKE_NOW` or `ASLEEP` (then the caller must wake it through the socket).
   */
  post(id: number, write: (area: Uint8Array) => number): number {
    const n = write(this.#request);
    if (n < 0) return NOT_POSTED;
    const words = this.#words;
    words[REQUEST_LENGTH] = n;
    words[CALL_ID] = id;
    Atomics.store(words, STATE, REQUEST);
    return Atomics.load(words, AWAKE) === 1 ? AWAKE_NOW : ASLEEP;
  }

  /**
   * Spins for the answer and hands its bytes to `read` (valid only during the call): true, or
   * false when it comes through the socket instead (the manager said so, or the caller parked
   * the call after waiting as long as `WAIT_*_MS` say).
   */
  answer(read: (bytes: Uint8Array) => void): boolean {
    const words = this.#words;
    const start = performance.now();
    try {
      for (;;) {
        const state = Atomics.load(words, STATE);
        if (state === DONE) {
          try {
            read(this.#bytes.subarray(ANSWER_AT, ANSWER_AT + words[ANSWER_LENGTH]));
          } finally {
            Atomics.store(words, STATE, IDLE);
          }
          return true;
        }
        // IDLE: answered through the socket; PARKED: the call waits in the manager.
        if (state === IDLE || state === PARKED) return false;
        const spent = performance.now() - start;
        const limit = state === RUNNING
          ? WAIT_RUNNING_MS
          : Atomics.load(words, AWAKE) === 1
          ? WAIT_AWAKE_MS
          : WAIT_ASLEEP_MS;
        if (spent > limit) {
          const parked = state === REQUEST ? WAITING : PARKED;
          if (Atomics.compareExchange(words, STATE, state, parked) === state) return false;
        } else if (!this.#header.spin(STATE, state)) {
          // No move within the spin: sleep, and have the manager wake us at its next.
          Atomics.store(words, SLEEPER, 1);
          this.#header.wait(STATE, state, Math.min(limit - spent, 1));
        }
      }
    } finally {
      Atomics.store(words, SLEEPER, 0);
    }
  }

  /** Unmaps the lane (the manager's mapping stays valid until it lets go too). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      native().unmap(this.#mapping.address, LANE_SIZE);
      native().closeFd(this.#mapping.fd);
    } catch {
      // Unmapping is tidiness; the memory goes with the process anyway.
    }
  }
}

/** The manager's side of one caller's lane. */
export class ManagerLane {
  readonly #mapping: Mapping;
  readonly #header: Words;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #answer: Uint8Array;
  #open = true;

  private constructor(mapping: Mapping) {
    this.#mapping = mapping;
    this.#header = headerOf(mapping);
    this.#words = this.#header.i32;
    this.#bytes = new Uint8Array(mapping.buffer, 0, LANE_SIZE);
    this.#answer = this.#bytes.subarray(ANSWER_AT, ANSWER_AT + AREA);
  }

  /** Maps a caller's lane; null if it cannot (another machine, another user, no native layer). */
  static attach(ref: LaneRef): ManagerLane | null {
    let mapping: Mapping;
    try {
      const ok = typeof ref === "object" && ref !== null && ref.size === LANE_SIZE
        && Number.isInteger(ref.pid) && Number.isInteger(ref.fd) && Array.isArray(ref.nonce)
        && ref.nonce.length === 4;
      if (!ok) return null;
      mapping = native().attachAnonymous(ref.pid, ref.fd, LANE_SIZE);
    } catch {
      return null;
    }
    const lane = new ManagerLane(mapping);
    // Same pid and fd on another machine would be other memory: the nonce says it is the caller's.
    if (ref.nonce.every((n, i) => lane.#words[NONCE + i] === n)) return lane;
    lane.close();
    return null;
  }

  /** The number of the call on the lane (for an answer when its request cannot be read). */
  get callId(): number {
    return this.#open ? this.#words[CALL_ID] : 0;
  }

  /** Takes the waiting request, if any: its bytes, valid until it is answered. */
  take(): Uint8Array | null {
    const words = this.#words;
    if (!this.#open) return null;
    const state = Atomics.load(words, STATE);
    if (state !== REQUEST && state !== WAITING) return null;
    const running = state === REQUEST ? RUNNING : PARKED;
    if (Atomics.compareExchange(words, STATE, state, running) !== state) return this.take();
    this.#wakeCaller();
    return this.#bytes.subarray(REQUEST_AT, REQUEST_AT + words[REQUEST_LENGTH]);
  }

  /** The call taken will wait (its method returned a Promise): its caller stops spinning. */
  defer(): void {
    if (!this.#open) return;
    Atomics.compareExchange(this.#words, STATE, RUNNING, PARKED);
    this.#wakeCaller();
  }

  /** Wakes the caller if it sleeps on the state word (after each move of the manager's). */
  #wakeCaller(): void {
    if (Atomics.load(this.#words, SLEEPER) === 1) this.#header.wake(STATE, 1);
  }

  /**
   * Writes the answer with `write` (its length, or -1 if it does not fit in the area it is
   * given); false when it must go through the socket (the caller parked, or it does not fit).
   */
  answer(write: (area: Uint8Array) => number): boolean {
    const words = this.#words;
    if (!this.#open) return false; // unmapped: not a byte may be touched
    if (Atomics.load(words, STATE) === RUNNING) {
      const n = write(this.#answer);
      if (n >= 0) {
        words[ANSWER_LENGTH] = n;
        if (Atomics.compareExchange(words, STATE, RUNNING, DONE) === RUNNING) {
          this.#wakeCaller();
          return true;
        }
      }
    }
    Atomics.store(words, STATE, IDLE); // before the socket's answer: the lane is free again
    this.#wakeCaller();
    return false;
  }

  /** Tells callers whether the manager is looking at its lanes. */
  set awake(on: boolean) {
    if (this.#open) Atomics.store(this.#words, AWAKE, on ? 1 : 0);
  }

  /** Whether a request waits. */
  get pending(): boolean {
    if (!this.#open) return false;
    const state = Atomics.load(this.#words, STATE);
    return state === REQUEST || state === WAITING;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      native().unmap(this.#mapping.address, LANE_SIZE);
    } catch {
      // as above
    }
  }
}
