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
import type { Scratch } from "./message.ts";

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
    const held = Atomics.load(i32, word);
    if (held !== 0) yield { i: word, expected: held, deadline, spin: true };
    if (Atomics.compareExchange(i32, word, 0, 1) === 0) return true;
    while (Atomics.exchange(i32, word, 2) !== 0) {
      if (remaining(deadline) === 0) return false;
      yield { i: word, expected: 2, deadline };
    }
    return true;
  }

  /**
   * Waits once for word `i` to leave `seq`: a spin if `spin`, else a sleep counted in `sleepers`
   * (the other side wakes only counted sleepers, with a syscall). Callers alternate the two.
   */
  *#await(
    i: number,
    sleepers: number,
    seq: number,
    deadline: number | undefined,
    spin: boolean,
  ): Generator<Wait, void, void> {
    if (spin) {
      yield { i, expected: seq, deadline, spin: true };
      return;
    }
    Atomics.add(this.i32, sleepers, 1);
    try {
      yield { i, expected: seq, deadline };
    } finally {
      Atomics.sub(this.i32, sleepers, 1);
    }
  }

  #unlock(word: number): void {
    if (Atomics.exchange(this.i32, word, 0) === 2) this.words.wake(word, 1);
  }

  /** Copies `src[0..n)` into the ring at `pos`, wrapping; returns the position after it. */
  #copyIn(src: Uint8Array, n: number, pos: number): number {
    const bytes = this.#bytes, cap = this.#capacity, first = Math.min(n, cap - pos);
    if (n <= 32) {
      for (let i = 0; i < first; i++) bytes[pos + i] = src[i];
      for (let i = first; i < n; i++) bytes[i - first] = src[i];
    } else {
      bytes.set(first === src.length ? src : src.subarray(0, first), pos);
      if (first < n) bytes.set(src.subarray(first, n), 0);
    }
    return (pos + n) % cap;
  }

  /** Copies `n` bytes from the ring at `pos` into `dst`, wrapping; returns the position after. */
  #copyOut(dst: Uint8Array, n: number, pos: number): number {
    const bytes = this.#bytes, cap = this.#capacity, first = Math.min(n, cap - pos);
    if (n <= 32) {
      for (let i = 0; i < first; i++) dst[i] = bytes[pos + i];
      for (let i = first; i < n; i++) dst[i] = bytes[i - first];
    } else {
      dst.set(this.#bytes.subarray(pos, pos + first), 0);
      if (first < n) dst.set(this.#bytes.subarray(0, n - first), first);
    }
    return (pos + n) % cap;
  }

  /** Writes a message's 4-byte length at `pos`, wrapping; returns the position after it. */
  #putLength(n: number, pos: number): number {
    const bytes = this.#bytes, cap = this.#capacity;
    for (let i = 0; i < 4; i++) bytes[(pos + i) % cap] = (n >>> (8 * i)) & 0xff;
    return (pos + 4) % cap;
  }

  #getLength(pos: number): number {
    const bytes = this.#bytes, cap = this.#capacity;
    let n = 0;
    for (let i = 0; i < 4; i++) n |= bytes[(pos + i) % cap] << (8 * i);
    return n >>> 0;
  }

  /**
   * Puts `src[0..n)` at once if nothing stands in the way (no bound, the put lock free, room
   * for the whole message): the common case, without the cost of a waiting operation.
   */
  tryPut(src: Uint8Array, n: number): boolean {
    const i32 = this.i32;
    if (this.maxsize > 0) return false;
    if (Atomics.compareExchange(i32, PUT_LOCK, 0, 1) !== 0) return false;
    try {
      if (this.#capacity - Atomics.load(i32, FILL) < n + 4) return false;
      const pos = this.#copyIn(src, n, this.#putLength(n, Atomics.load(i32, WPOS)));
      Atomics.store(i32, WPOS, pos);
      Atomics.add(i32, FILL, n + 4);
      Atomics.add(i32, ITEMS, 1);
      Atomics.add(i32, SEQ_DATA, 1);
      if (Atomics.load(i32, WAIT_DATA) > 0) this.words.wake(SEQ_DATA);
      return true;
    } finally {
      this.#unlock(PUT_LOCK);
    }
  }

  /**
   * Takes a message into `into` at once if one is wholly there and the get lock is free, and
   * returns its length; else -1.
   */
  tryGet(into: Scratch): number {
    const i32 = this.i32;
    if (Atomics.load(i32, ITEMS) === 0) return -1;
    if (Atomics.compareExchange(i32, GET_LOCK, 0, 1) !== 0) return -1;
    try {
      const fill = Atomics.load(i32, FILL);
      if (Atomics.load(i32, ITEMS) === 0 || fill < 4) return -1;
      const start = Atomics.load(i32, RPOS);
      const n = this.#getLength(start);
      if (fill < n + 4) return -1; // still being written: the waiting path streams it
      into.reserve(n);
      const pos = this.#copyOut(into.bytes, n, (start + 4) % this.#capacity);
      Atomics.sub(i32, ITEMS, 1);
      Atomics.store(i32, RPOS, pos);
      Atomics.sub(i32, FILL, n + 4);
      Atomics.add(i32, SEQ_SPACE, 1);
      if (Atomics.load(i32, WAIT_SPACE) > 0) this.words.wake(SEQ_SPACE);
      if (this.maxsize > 0) this.#freeSlot();
      return n;
    } finally {
      this.#unlock(GET_LOCK);
    }
  }

  /** Puts `payload` as one message; waits for a slot (maxsize) until `deadline`. */
  *put(payload: Uint8Array, deadline: number | undefined): Op<void> {
    const i32 = this.i32;
    const max = this.maxsize;
    let spun = false;
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
        yield* this.#await(SEQ_SPACE, WAIT_SPACE, seq, deadline, spun = !spun);
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
    let done = 0, spun = false;
    while (done < src.length || (startsMessage && done === 0 && src.length === 0)) {
      const seq = Atomics.load(i32, SEQ_SPACE);
      const free = cap - Atomics.load(i32, FILL);
      if (free === 0) {
        yield* this.#await(SEQ_SPACE, WAIT_SPACE, seq, undefined, spun = !spun);
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
      let spun = false;
      for (;;) {
        const seq = Atomics.load(i32, SEQ_DATA);
        if (Atomics.load(i32, ITEMS) > 0) break;
        if (eof?.()) return END;
        if (remaining(deadline) === 0) return TIMED_OUT;
        yield* this.#await(SEQ_DATA, WAIT_DATA, seq, deadline, spun = !spun);
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
    let done = 0, spun = false;
    while (done < dst.length) {
      const seq = Atomics.load(i32, SEQ_DATA);
      const fill = Atomics.load(i32, FILL);
      if (fill === 0) {
        yield* this.#await(SEQ_DATA, WAIT_DATA, seq, undefined, spun = !spun);
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
      if (Atomics.load(this.i32, ITEMS) > 0 || eof?.()) return true;
      if (remaining(deadline) === 0) return false;
      yield* this.#await(SEQ_DATA, WAIT_DATA, seq, deadline, spun = !spun);
    }
  }

  /** Wakes everyone waiting for data (so they look at a changed condition, e.g. a closed pipe). */
  wakeReaders(): void {
    Atomics.add(this.i32, SEQ_DATA, 1);
    this.words.wake(SEQ_DATA);
  }
}
