/**
 * A ring of bytes in shared memory carrying length-prefixed messages from any number of
 * writers to any number of readers, in order. One writer and one reader at a time (each side
 * has a futex mutex), so the ring itself is single-producer single-consumer: a byte count
 * updated atomically is all they share. A message larger than the ring streams through it.
 * Every operation is written once, as a generator that yields what it waits for; `runSync` and
 * `runAsync` of futex.ts run it.
 * @module
 */
import type { StartMethod } from "../runtime/popen.ts";
import { allocate, attach, type Block, type BlockRef } from "../shm/arena.ts";
import { remaining, type Wait, Words } from "../sync/futex.ts";

// Header words.
const PUT_LOCK = 0, GET_LOCK = 1, FILL = 2, WPOS = 3, RPOS = 4;
const SEQ_DATA = 5, SEQ_SPACE = 6, ITEMS = 7, RESERVED = 8, MAXSIZE = 9;
const WAIT_DATA = 10, WAIT_SPACE = 11;
/** Words free for the users of a ring (JoinableQueue's count, a pipe's open ends, ...). */
export const USER_WORDS = 12;
const HEADER_WORDS = 16;
const HEADER = HEADER_WORDS * 4;

/** Returned by an operation whose deadline passed. */
export const TIMED_OUT: unique symbol = Symbol("timed out");
/** Returned by `get` when no message is left and `eof()` says none will come. */
export const END: unique symbol = Symbol("end of stream");

export type Op<T> = Generator<Wait, T | typeof TIMED_OUT | typeof END, void>;

/** A ring over shared memory of one start method. */
export class Ring {
  readonly words: Words;
  readonly #bytes: Uint8Array;
  readonly #capacity: number;
  readonly block: Block;

  constructor(method: StartMethod, capacity: number, maxsize: number);
  constructor(ref: BlockRef);
  constructor(a: StartMethod | BlockRef, capacity = 0, maxsize = 0) {
    this.block = typeof a === "string" ? allocate(a, HEADER + capacity, 4096) : attach(a);
    this.words = new Words(this.block, HEADER_WORDS);
    this.#capacity = this.block.size - HEADER;
    this.#bytes = new Uint8Array(this.block.buffer, this.block.offset + HEADER, this.#capacity);
    if (typeof a === "string") Atomics.store(this.words.i32, MAXSIZE, maxsize);
  }

  get i32(): Int32Array {
    return this.words.i32;
  }

  /** Messages put and not yet taken. */
  get items(): number {
    return Atomics.load(this.i32, ITEMS);
  }

  /** The bound on messages (0: none). */
  get maxsize(): number {
    return Atomics.load(this.i32, MAXSIZE);
  }

  *#lock(word: number, deadline: number | undefined): Generator<Wait, boolean, void> {
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, word, 0, 1) === 0) return true;
    while (Atomics.exchange(i32, word, 2) !== 0) {
      if (remaining(deadline) === 0) return false;
      yield { i: word, expected: 2, deadline };
    }
    return true;
  }

  #unlock(word: number): void {
    if (Atomics.exchange(this.i32, word, 0) === 2) this.words.wake(word, 1);
  }

  #copyIn(src: Uint8Array, pos: number): number {
    const cap = this.#capacity, first = Math.min(src.length, cap - pos);
    this.#bytes.set(first === src.length ? src : src.subarray(0, first), pos);
    if (first < src.length) this.#bytes.set(src.subarray(first), 0);
    return (pos + src.length) % cap;
  }

  #copyOut(dst: Uint8Array, pos: number): number {
    const cap = this.#capacity, first = Math.min(dst.length, cap - pos);
    dst.set(this.#bytes.subarray(pos, pos + first), 0);
    if (first < dst.length) dst.set(this.#bytes.subarray(0, dst.length - first), first);
    return (pos + dst.length) % cap;
  }

  /**
   * Puts `payload` at once if nothing stands in the way (no bound, the put lock free, room for
   * the whole message): the common case, without the cost of a waiting operation.
   */
  tryPut(payload: Uint8Array): boolean {
    const i32 = this.i32;
    if (this.maxsize > 0) return false;
    if (Atomics.compareExchange(i32, PUT_LOCK, 0, 1) !== 0) return false;
    try {
      if (this.#capacity - Atomics.load(i32, FILL) < payload.length + 4) return false;
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, payload.length, true);
      let pos = this.#copyIn(header, Atomics.load(i32, WPOS));
      pos = this.#copyIn(payload, pos);
      Atomics.store(i32, WPOS, pos);
      Atomics.add(i32, FILL, payload.length + 4);
      Atomics.add(i32, ITEMS, 1);
      Atomics.add(i32, SEQ_DATA, 1);
      if (Atomics.load(i32, WAIT_DATA) > 0) this.words.wake(SEQ_DATA);
      return true;
    } finally {
      this.#unlock(PUT_LOCK);
    }
  }

  /** Takes a message at once if one is wholly there and the get lock is free; else null. */
  tryGet(): Uint8Array | null {
    const i32 = this.i32;
    if (Atomics.load(i32, ITEMS) === 0) return null;
    if (Atomics.compareExchange(i32, GET_LOCK, 0, 1) !== 0) return null;
    try {
      const fill = Atomics.load(i32, FILL);
      if (Atomics.load(i32, ITEMS) === 0 || fill < 4) return null;
      const header = new Uint8Array(4);
      let pos = this.#copyOut(header, Atomics.load(i32, RPOS));
      const n = new DataView(header.buffer).getUint32(0, true);
      if (fill < n + 4) return null; // still being written: the waiting path streams it
      const out = new Uint8Array(n);
      pos = this.#copyOut(out, pos);
      Atomics.sub(i32, ITEMS, 1);
      Atomics.store(i32, RPOS, pos);
      Atomics.sub(i32, FILL, n + 4);
      Atomics.add(i32, SEQ_SPACE, 1);
      if (Atomics.load(i32, WAIT_SPACE) > 0) this.words.wake(SEQ_SPACE);
      if (this.maxsize > 0) this.#freeSlot();
      return out;
    } finally {
      this.#unlock(GET_LOCK);
    }
  }

  /** Puts `payload` as one message; waits for a slot (maxsize) until `deadline`. */
  *put(payload: Uint8Array, deadline: number | undefined): Op<void> {
    const i32 = this.i32;
    const max = this.maxsize;
    if (max > 0) {
      // Reserve a slot: RESERVED counts messages put and not yet fully read.
      for (;;) {
        const seq = Atomics.load(i32, SEQ_SPACE);
        const r = Atomics.load(i32, RESERVED);
        if (r < max) {
          if (Atomics.compareExchange(i32, RESERVED, r, r + 1) === r) break;
          continue;
        }
        if (remaining(deadline) === 0) return TIMED_OUT;
        Atomics.add(this.i32, WAIT_SPACE, 1);
        yield { i: SEQ_SPACE, expected: seq, deadline };
        Atomics.sub(this.i32, WAIT_SPACE, 1);
      }
    }
    if (!(yield* this.#lock(PUT_LOCK, deadline))) {
      if (max > 0) this.#freeSlot();
      return TIMED_OUT;
    }
    try {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, payload.length, true);
      yield* this.#write(header, true);
      yield* this.#write(payload, false);
    } finally {
      this.#unlock(PUT_LOCK);
    }
  }

  #freeSlot(): void {
    Atomics.sub(this.i32, RESERVED, 1);
    Atomics.add(this.i32, SEQ_SPACE, 1);
    if (Atomics.load(this.i32, WAIT_SPACE) > 0) this.words.wake(SEQ_SPACE);
  }

  /** Writes `src` into the ring, waiting for space as needed (no deadline: a message is whole). */
  *#write(src: Uint8Array, startsMessage: boolean): Generator<Wait, void, void> {
    const i32 = this.i32, cap = this.#capacity;
    let done = 0;
    while (done < src.length || (startsMessage && done === 0 && src.length === 0)) {
      const seq = Atomics.load(i32, SEQ_SPACE);
      const free = cap - Atomics.load(i32, FILL);
      if (free === 0) {
        Atomics.add(this.i32, WAIT_SPACE, 1);
        yield { i: SEQ_SPACE, expected: seq, deadline: undefined };
        Atomics.sub(this.i32, WAIT_SPACE, 1);
        continue;
      }
      const pos = Atomics.load(i32, WPOS);
      const n = Math.min(free, src.length - done, cap - pos);
      this.#bytes.set(src.subarray(done, done + n), pos);
      Atomics.store(i32, WPOS, (pos + n) % cap);
      Atomics.add(i32, FILL, n);
      if (startsMessage && done === 0) Atomics.add(i32, ITEMS, 1);
      done += n;
      Atomics.add(i32, SEQ_DATA, 1);
      if (Atomics.load(i32, WAIT_DATA) > 0) this.words.wake(SEQ_DATA);
    }
  }

  /** Takes the next message; waits for one until `deadline`, or until `eof()` holds. */
  *get(deadline: number | undefined, eof?: () => boolean): Op<Uint8Array> {
    const i32 = this.i32;
    if (!(yield* this.#lock(GET_LOCK, deadline))) return TIMED_OUT;
    try {
      // Claim a message: wait until one has started.
      for (;;) {
        const seq = Atomics.load(i32, SEQ_DATA);
        if (Atomics.load(i32, ITEMS) > 0) break;
        if (eof?.()) return END;
        if (remaining(deadline) === 0) return TIMED_OUT;
        Atomics.add(this.i32, WAIT_DATA, 1);
        yield { i: SEQ_DATA, expected: seq, deadline };
        Atomics.sub(this.i32, WAIT_DATA, 1);
      }
      Atomics.sub(i32, ITEMS, 1);
      const header = new Uint8Array(4);
      yield* this.#read(header);
      const out = new Uint8Array(new DataView(header.buffer).getUint32(0, true));
      yield* this.#read(out);
      if (this.maxsize > 0) this.#freeSlot();
      return out;
    } finally {
      this.#unlock(GET_LOCK);
    }
  }

  *#read(dst: Uint8Array): Generator<Wait, void, void> {
    const i32 = this.i32, cap = this.#capacity;
    let done = 0;
    while (done < dst.length) {
      const seq = Atomics.load(i32, SEQ_DATA);
      const fill = Atomics.load(i32, FILL);
      if (fill === 0) {
        Atomics.add(this.i32, WAIT_DATA, 1);
        yield { i: SEQ_DATA, expected: seq, deadline: undefined };
        Atomics.sub(this.i32, WAIT_DATA, 1);
        continue;
      }
      const pos = Atomics.load(i32, RPOS);
      const n = Math.min(fill, dst.length - done, cap - pos);
      dst.set(this.#bytes.subarray(pos, pos + n), done);
      Atomics.store(i32, RPOS, (pos + n) % cap);
      Atomics.sub(i32, FILL, n);
      done += n;
      Atomics.add(i32, SEQ_SPACE, 1);
      if (Atomics.load(i32, WAIT_SPACE) > 0) this.words.wake(SEQ_SPACE);
    }
  }

  /** Whether a message is waiting (or being written), or `eof()` holds. */
  *poll(deadline: number | undefined, eof?: () => boolean): Op<boolean> {
    for (;;) {
      const seq = Atomics.load(this.i32, SEQ_DATA);
      if (Atomics.load(this.i32, ITEMS) > 0 || eof?.()) return true;
      if (remaining(deadline) === 0) return false;
      Atomics.add(this.i32, WAIT_DATA, 1);
      yield { i: SEQ_DATA, expected: seq, deadline };
      Atomics.sub(this.i32, WAIT_DATA, 1);
    }
  }

  /** Wakes everyone waiting for data (so they look at a changed condition, e.g. a closed pipe). */
  wakeReaders(): void {
    Atomics.add(this.i32, SEQ_DATA, 1);
    this.words.wake(SEQ_DATA);
  }
}
