/**
 * A ring of bytes in shared memory carrying messages from any number of writers to any number of
 * readers, in order. One writer and one reader at a time (each side has a robust mutex), so the
 * ring itself is single-producer single-consumer: the writer publishes bytes by one store of its
 * counter of bytes written, the reader frees them by one store of its counter of bytes read (the
 * capacity is a power of two, so a counter names a position). A message larger than the ring
 * streams through it. This module is the protocol; the bytes and header words it works on (named
 * below in capitals) are laid out in ring_store.ts.
 *
 * A message is `[length: u32][payload][trailer: u8]`; its header is always published whole, and
 * its trailer is 1. Any process may die at any instruction, and a waiting call returns by its
 * deadline, yet a reader gets each message whole or not at all:
 * - a writer that dies (or whose `put` times out) after publishing part of a message leaves
 *   `MSG_END` ahead of the bytes written: the next writer completes the message with zeros (a
 *   trailer of 0 marks it torn, and readers drop it); a reader waiting mid-message for bytes that
 *   no live writer owes drops it itself;
 * - a reader that dies mid-message leaves `GET_END` ahead of the bytes read: the next reader
 *   drops the rest of that message;
 * - a slot of a bounded queue is freed exactly once: by whoever sees its message read to the end
 *   (a flag taken by exchange), or by the next writer when its dead writer published nothing.
 * Every operation is written once, as a generator that yields what it waits for; `runSync` and
 * `runAsync` of futex.ts run it.
 * @module
 */
import { remaining, type Wait } from "../sync/futex.ts";
import {
  holderAlive,
  lock,
  takeFromDead,
  TIMED_OUT_LOCK,
  tryLock,
  unlock,
} from "../sync/robust.ts";
import type { Scratch } from "./message.ts";
import {
  GET_END,
  GET_LOCK,
  GET_SLOT,
  GET_SLOT_AT,
  ITEMS,
  MSG_END,
  MSG_START,
  PUT_LOCK,
  PUT_SLOT,
  READ,
  RESERVED,
  RingStore,
  SEQ_DATA,
  SEQ_SPACE,
  WAIT_DATA,
  WAIT_SPACE,
  WRITTEN,
} from "./ring_store.ts";

export { HOLDER_SLOTS, HOLDER_WORDS, USER_WORDS } from "./ring_store.ts";

const FRAME = 5; // length and trailer

/** Returned by an operation whose deadline passed. */
export const TIMED_OUT: unique symbol = Symbol("timed out");
/** Returned by `get` when no message is left and `eof()` says none will come. */
export const END: unique symbol = Symbol("end of stream");

export type Op<T> = Generator<Wait, T | typeof TIMED_OUT | typeof END, void>;

/**
 * A ring over shared memory of one start method: the message protocol over the bytes and header
 * words of its `RingStore`.
 */
export class Ring extends RingStore {
  /**
   * A count of messages kept in a user word (`JoinableQueue`'s unfinished tasks), or null: raised
   * as a message's first bytes are published, so that a reader can never take a message not yet
   * counted and a writer that dies while it waits for room leaves no count behind; `dropped()`
   * takes it back for a torn message, which no reader gets.
   */
  counter: { readonly word: number; dropped(): void } | null = null;

  /** Counts a message about to be published (see `counter`). */
  #count(): void {
    if (this.counter) Atomics.add(this.i32, this.counter.word, 1);
  }

  /**
   * Puts `src[0..n)` at once if nothing stands in the way (no bound, the put lock free, nothing
   * to recover, room for the whole message): the common case, without the cost of a waiting
   * operation.
   */
  tryPut(src: Uint8Array, n: number): boolean {
    const i32 = this.i32;
    if (this.maxsize > 0 || !tryLock(i32, PUT_LOCK)) return false;
    try {
      const w = Atomics.load(i32, WRITTEN);
      if (Atomics.load(i32, MSG_END) !== w || this.capacity - this.fill() < n + FRAME) {
        return false;
      }
      const bytes = this.bytes, mask = this.mask;
      for (let i = 0; i < 4; i++) bytes[(w + i) & mask] = (n >>> (8 * i)) & 0xff;
      this.copyIn(src, n, w + 4);
      bytes[(w + 4 + n) & mask] = 1;
      // One store publishes the whole message; a writer dying before it published nothing.
      const end = (w + n + FRAME) | 0;
      this.#count();
      Atomics.store(i32, MSG_START, w);
      Atomics.store(i32, MSG_END, end);
      Atomics.store(i32, WRITTEN, end);
      Atomics.add(i32, ITEMS, 1);
      this.notify(SEQ_DATA, WAIT_DATA);
      return true;
    } finally {
      unlock(this.words, PUT_LOCK);
    }
  }

  /**
   * Takes a message into `into` at once if one is wholly there and the get lock is free, and
   * returns its length; else -1.
   */
  tryGet(into: Scratch): number {
    const i32 = this.i32;
    if (Atomics.load(i32, WRITTEN) === Atomics.load(i32, READ)) return -1;
    if (!tryLock(i32, GET_LOCK)) return -1;
    try {
      const r = Atomics.load(i32, READ);
      if (Atomics.load(i32, GET_END) !== r) return -1; // a dead reader's message: waiting path
      this.settleSlot();
      const fill = this.fill();
      if (fill < FRAME) return -1;
      const n = this.length(r);
      if (fill < n + FRAME || this.byte(r + 4 + n) !== 1) return -1; // not whole yet, or torn
      const end = (r + n + FRAME) | 0;
      this.slotFreedAt(end);
      Atomics.store(i32, GET_END, end); // a reader dying from here on has taken the message
      into.reserve(n);
      this.copyOut(into.bytes, 0, n, r + 4);
      Atomics.store(i32, READ, end);
      this.settleSlot();
      Atomics.sub(i32, ITEMS, 1);
      this.notify(SEQ_SPACE, WAIT_SPACE);
      return n;
    } finally {
      unlock(this.words, GET_LOCK);
    }
  }

  /**
   * Puts `payload` as one message; waits for a slot (maxsize) and for room until `deadline`, or
   * until `gone()` says no reader is left to make room (then `END`).
   */
  *put(payload: Uint8Array, deadline: number | undefined, gone?: () => boolean): Op<void> {
    if ((yield* lock(this.words, PUT_LOCK, deadline, true)) === TIMED_OUT_LOCK) return TIMED_OUT;
    try {
      const written = (yield* this.#recoverPut(deadline, gone))
        && (this.maxsize === 0 || (yield* this.#reserve(deadline)))
        && (yield* this.#write(payload, deadline, gone));
      if (written) return undefined;
      return gone?.() ? END : TIMED_OUT;
    } finally {
      unlock(this.words, PUT_LOCK);
    }
  }

  /**
   * With the put lock: finishes what an earlier writer left (it died, or its put timed out):
   * frees a slot no message owns, and completes a torn message with zeros (trailer 0).
   */
  *#recoverPut(
    deadline: number | undefined,
    gone?: () => boolean,
  ): Generator<Wait, boolean, void> {
    const i32 = this.i32;
    const w = Atomics.load(i32, WRITTEN);
    const owed = Atomics.load(i32, MSG_END) !== w;
    const published = owed && Atomics.load(i32, MSG_START) !== w;
    if (Atomics.load(i32, PUT_SLOT) === 1) {
      Atomics.store(i32, PUT_SLOT, 0);
      if (!published) this.freeSlot(); // else the torn message owns it: its reader frees it
    }
    if (!owed) return true;
    if (!published) {
      Atomics.store(i32, MSG_END, w);
      return true;
    }
    return yield* this.#publish(null, deadline, gone);
  }

  /** Reserves a slot of a bounded queue, until `deadline`. */
  *#reserve(deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this.i32, max = this.maxsize;
    let spun = false;
    for (;;) {
      const seq = Atomics.load(i32, SEQ_SPACE);
      const r = Atomics.load(i32, RESERVED);
      if (r < max) {
        if (Atomics.compareExchange(i32, RESERVED, r, r + 1) !== r) continue;
        Atomics.store(i32, PUT_SLOT, 1);
        return true;
      }
      if (remaining(deadline) === 0) return false;
      yield* this.waitFor(SEQ_SPACE, WAIT_SPACE, seq, deadline, spun = !spun);
    }
  }

  /** With the put lock: writes `payload` as a message, waiting for room until `deadline`. */
  *#write(
    payload: Uint8Array,
    deadline: number | undefined,
    gone?: () => boolean,
  ): Generator<Wait, boolean, void> {
    const i32 = this.i32, n = payload.length;
    const message = new Uint8Array(n + FRAME);
    new DataView(message.buffer).setUint32(0, n, true);
    message.set(payload, 4);
    message[n + 4] = 1;
    const w = Atomics.load(i32, WRITTEN);
    Atomics.store(i32, MSG_START, w);
    Atomics.store(i32, MSG_END, (w + n + FRAME) | 0);
    if (!(yield* this.#publish(message, deadline, gone))) {
      if (Atomics.load(i32, WRITTEN) === w) {
        // Nothing published: the put never happened.
        Atomics.store(i32, MSG_END, w);
        if (Atomics.exchange(i32, PUT_SLOT, 0) === 1) this.freeSlot();
      }
      return false; // else torn: the next writer, or a reader waiting for it, drops it
    }
    Atomics.add(i32, ITEMS, 1);
    return true;
  }

  /**
   * Publishes the rest of the message being written (from `message`, or zeros), as room comes,
   * until `deadline`; false if it passed first. The header goes out whole in the first store.
   */
  *#publish(
    message: Uint8Array | null,
    deadline: number | undefined,
    gone?: () => boolean,
  ): Generator<
    Wait,
    boolean,
    void
  > {
    const i32 = this.i32, start = Atomics.load(i32, MSG_START), end = Atomics.load(i32, MSG_END);
    let spun = false;
    for (;;) {
      const w = Atomics.load(i32, WRITTEN);
      const left = (end - w) >>> 0;
      if (left === 0) return true;
      const seq = Atomics.load(i32, SEQ_SPACE);
      const free = this.capacity - this.fill();
      const done = (w - start) >>> 0;
      if (free === 0 || (done === 0 && free < 4)) {
        if (remaining(deadline) === 0 || gone?.()) return false;
        yield* this.waitFor(SEQ_SPACE, WAIT_SPACE, seq, deadline, spun = !spun);
        continue;
      }
      const k = Math.min(free, left);
      if (message) this.copyIn(message.subarray(done, done + k), k, w);
      else for (let i = 0; i < k; i++) this.bytes[(w + i) & this.mask] = 0;
      if (message && done === 0) this.#count(); // its first bytes: counted before a reader sees them
      Atomics.store(i32, WRITTEN, (w + k) | 0);
      if (done === 0) Atomics.store(i32, PUT_SLOT, 0); // the message owns its slot now
      this.notify(SEQ_DATA, WAIT_DATA);
    }
  }

  /** Takes the next message; waits for one until `deadline`, or until `eof()` holds. */
  *get(deadline: number | undefined, eof?: () => boolean): Op<Uint8Array> {
    if ((yield* lock(this.words, GET_LOCK, deadline, true)) === TIMED_OUT_LOCK) return TIMED_OUT;
    try {
      const i32 = this.i32;
      for (;;) {
        // The rest of a message whose reader died: dropped, and no longer counted in `items`
        // if its writer had finished it (its last byte, the trailer, is 1).
        const left = (Atomics.load(i32, GET_END) - Atomics.load(i32, READ)) >>> 0;
        if (left > 0) {
          const rest = new Uint8Array(left);
          const complete = yield* this.#read(rest, left);
          if (complete && rest[left - 1] === 1) Atomics.sub(i32, ITEMS, 1);
          else this.counter?.dropped(); // torn: its writer died, nobody gets it
          this.#endMessage(complete);
        }
        this.settleSlot();
        // Wait for a message to start.
        let spun = false;
        for (;;) {
          const seq = Atomics.load(i32, SEQ_DATA);
          if (this.fill() > 0) break;
          if (eof?.()) return END;
          if (remaining(deadline) === 0) return TIMED_OUT;
          yield* this.waitFor(SEQ_DATA, WAIT_DATA, seq, deadline, spun = !spun);
        }
        const r = Atomics.load(i32, READ);
        const n = this.length(r);
        const end = (r + n + FRAME) | 0;
        this.slotFreedAt(end);
        Atomics.store(i32, GET_END, end);
        Atomics.store(i32, READ, (r + 4) | 0);
        this.notify(SEQ_SPACE, WAIT_SPACE);
        const out = new Uint8Array(n + 1);
        const complete = yield* this.#read(out, n + 1);
        this.#endMessage(complete);
        if (complete && out[n] === 1) {
          Atomics.sub(i32, ITEMS, 1);
          return out.subarray(0, n);
        }
        this.counter?.dropped(); // torn: its writer died or gave up, nobody gets it
      }
    } finally {
      unlock(this.words, GET_LOCK);
    }
  }

  /**
   * With the get lock: the message being read is done -- read to its end, or (`complete` false)
   * dropped where its writer stopped. Frees its slot.
   */
  #endMessage(complete: boolean): void {
    const i32 = this.i32;
    if (!complete) {
      const r = Atomics.load(i32, READ);
      if (Atomics.load(i32, GET_SLOT) === 1) Atomics.store(i32, GET_SLOT_AT, r);
      Atomics.store(i32, GET_END, r);
    }
    this.settleSlot();
  }

  /**
   * With the get lock: reads `count` bytes of the message being read into `dst` (or drops
   * them). False if the message is torn: its writer died, or gave up, before publishing them.
   * Waits without a deadline while a live writer owes the bytes (a message is whole).
   */
  *#read(dst: Uint8Array | null, count: number): Generator<Wait, boolean, void> {
    const i32 = this.i32;
    let done = 0, spun = false;
    while (done < count) {
      const seq = Atomics.load(i32, SEQ_DATA);
      const fill = this.fill();
      if (fill === 0) {
        if (this.#dropTorn()) return false;
        yield* this.waitFor(SEQ_DATA, WAIT_DATA, seq, undefined, spun = !spun);
        continue;
      }
      const r = Atomics.load(i32, READ);
      const k = Math.min(fill, count - done);
      if (dst) this.copyOut(dst, done, k, r);
      done += k;
      Atomics.store(i32, READ, (r + k) | 0);
      this.notify(SEQ_SPACE, WAIT_SPACE);
    }
    return true;
  }

  /**
   * A reader mid-message with nothing to read: if no live writer owes the rest (the put lock is
   * free, or its holder died), takes the put lock, says the writer owes nothing, and drops the
   * message. True if it did.
   */
  #dropTorn(): boolean {
    const i32 = this.i32;
    if (holderAlive(i32, PUT_LOCK)) return false;
    const taken = tryLock(i32, PUT_LOCK) || takeFromDead(i32, PUT_LOCK);
    if (!taken) return false;
    try {
      const w = Atomics.load(i32, WRITTEN);
      if (w !== Atomics.load(i32, READ)) return false; // bytes came meanwhile
      Atomics.store(i32, MSG_START, w);
      Atomics.store(i32, MSG_END, w);
      Atomics.store(i32, PUT_SLOT, 0); // the torn message owned the slot: freed with it
      return true;
    } finally {
      unlock(this.words, PUT_LOCK);
    }
  }

  /**
   * Takes the next message and returns `decode(bytes, view, length)` of it: copied into `into`
   * and decoded there if it can be taken whole at once (after waiting, like `poll`, for one to
   * start), else streamed into an array of its own by `get`. The scratch is used only within one
   * step of the operation, so async operations may share it.
   */
  *take<T>(
    into: Scratch,
    decode: (bytes: Uint8Array, view: DataView, length: number) => T,
    deadline: number | undefined,
    eof?: () => boolean,
  ): Op<T> {
    let n = this.tryGet(into);
    if (n < 0) {
      if (!(yield* this.poll(deadline, eof))) return TIMED_OUT;
      n = this.tryGet(into);
    }
    if (n >= 0) return decode(into.bytes, into.view, n);
    const r = yield* this.get(deadline, eof);
    return r === TIMED_OUT || r === END
      ? r
      : decode(r, new DataView(r.buffer, r.byteOffset, r.length), r.length);
  }

  /** Whether a message is waiting (or being written), or `eof()` holds. */
  *poll(deadline: number | undefined, eof?: () => boolean): Op<boolean> {
    let spun = false;
    for (;;) {
      const seq = Atomics.load(this.i32, SEQ_DATA);
      if (this.fill() > 0 || eof?.()) return true;
      if (remaining(deadline) === 0) return false;
      yield* this.waitFor(SEQ_DATA, WAIT_DATA, seq, deadline, spun = !spun);
    }
  }

  /** Wakes everyone waiting for data (so they look at a changed condition, e.g. a closed pipe). */
  wakeReaders(): void {
    Atomics.add(this.i32, SEQ_DATA, 1);
    this.words.wake(SEQ_DATA);
  }

  /** Wakes everyone waiting for room (so they look at a changed condition: no reader left). */
  wakeWriters(): void {
    Atomics.add(this.i32, SEQ_SPACE, 1);
    this.words.wake(SEQ_SPACE);
  }
}
