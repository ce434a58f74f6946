/**
 * The storage under a ring (ring.ts has the message protocol): one block of shared memory, a
 * header of 64 words then the data bytes, whose capacity is the largest power of two that fits
 * (so a byte counter, taken modulo the capacity, names a position).
 *
 * The header words (4 and 22 to 31 unused):
 * - 0, 1: the put and get locks (robust.ts);
 * - 2, 3: `WRITTEN` and `READ`, the counts of bytes published and bytes freed (mod 2^32);
 * - 5, 6: `SEQ_DATA` and `SEQ_SPACE`, bumped when data or room comes; 10, 11 count the sleepers
 *   on each (`WAIT_DATA`, `WAIT_SPACE`);
 * - 7, 8, 9: `ITEMS` (messages put and not taken), `RESERVED` (slots held, bounded queue) and
 *   `MAXSIZE` (the bound; 0: none);
 * - 12 to 15: free for the users of a ring (from `USER_WORDS`);
 * - 16 to 21: where each side is -- the message being written (`MSG_START`, `MSG_END`,
 *   `PUT_SLOT`) and the one being read (`GET_END`, `GET_SLOT`, `GET_SLOT_AT`);
 * - 32 to 63: free for users, for a table of holders (`HOLDER_WORDS`, `HOLDER_SLOTS`).
 *
 * `RingStore` gives its subclass the bytes and words: copies in and out with wrap-around, the
 * fill, waiting on and notifying a sequence word, and the bookkeeping of the slots of a bounded
 * queue.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import { allocate, attach, type Block, type BlockRef } from "../memory/arena.ts";
import { type Wait, Words } from "../sync/futex.ts";
import { nextCheck } from "../sync/robust.ts";

// Header words. WRITTEN and READ count bytes (mod 2^32).
export const PUT_LOCK = 0, GET_LOCK = 1, WRITTEN = 2, READ = 3;
export const SEQ_DATA = 5, SEQ_SPACE = 6, ITEMS = 7, RESERVED = 8, MAXSIZE = 9;
export const WAIT_DATA = 10, WAIT_SPACE = 11;
/** Words free for the users of a ring (JoinableQueue's count, a pipe's open ends, ...). */
export const USER_WORDS = 12;
/** The message being written: where it starts and ends (equal to WRITTEN when none is). */
export const MSG_START = 16, MSG_END = 17;
/** 1 while the writer holds a slot (bounded queue) that no published message owns yet. */
export const PUT_SLOT = 18;
/** Where the message being read ends (equal to READ when none is). */
export const GET_END = 19;
/** 1 while the slot of a message taken by a reader is to be freed once READ reaches GET_SLOT_AT. */
export const GET_SLOT = 20, GET_SLOT_AT = 21;
/** Words free for users, for a table of holders (a pipe's writers). */
export const HOLDER_WORDS = 32, HOLDER_SLOTS = 32;
const HEADER_WORDS = 64;
const HEADER = HEADER_WORDS * 4;

/** The largest power of two not above `n`. */
function floorPow2(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/** The header words and data bytes of a ring, over shared memory of one start method. */
export class RingStore {
  readonly words: Words;
  readonly block: Block;
  /** The data bytes: `capacity` of them, a power of two (`mask` is one less). */
  protected readonly bytes: Uint8Array;
  protected readonly capacity: number;
  protected readonly mask: number;

  constructor(method: StartMethod, capacity: number, maxsize: number);
  constructor(ref: BlockRef);
  constructor(a: StartMethod | BlockRef, capacity = 0, maxsize = 0) {
    this.block = typeof a === "string" ? allocate(a, HEADER + capacity, 4096) : attach(a);
    this.words = new Words(this.block, HEADER_WORDS);
    this.capacity = floorPow2(this.block.size - HEADER);
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(this.block.buffer, this.block.offset + HEADER, this.capacity);
    if (typeof a === "string") Atomics.store(this.words.i32, MAXSIZE, maxsize);
  }

  get i32(): Int32Array {
    return this.words.i32;
  }

  /** Messages put and not yet taken (approximate while either side is mid-message). */
  get items(): number {
    return Math.max(0, Atomics.load(this.i32, ITEMS));
  }

  /** The bound on messages (0: none). */
  get maxsize(): number {
    return Atomics.load(this.i32, MAXSIZE);
  }

  /** Bytes published and not yet read. */
  protected fill(): number {
    return (Atomics.load(this.i32, WRITTEN) - Atomics.load(this.i32, READ)) >>> 0;
  }

  /**
   * Waits once for word `i` to leave `seq`: a spin if `spin`, else a sleep counted in `sleepers`
   * (the other side wakes only counted sleepers, with a syscall). Callers alternate the two.
   */
  protected *waitFor(
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
      yield { i, expected: seq, deadline: nextCheck(deadline) };
    } finally {
      Atomics.sub(this.i32, sleepers, 1);
    }
  }

  /** Bumps sequence word `seq`, waking its sleepers (counted in `sleepers`) if there are any. */
  protected notify(seq: number, sleepers: number): void {
    Atomics.add(this.i32, seq, 1);
    if (Atomics.load(this.i32, sleepers) > 0) this.words.wake(seq);
  }

  /** Copies `src[0..n)` into the ring at byte count `at`, wrapping. */
  protected copyIn(src: Uint8Array, n: number, at: number): void {
    const bytes = this.bytes, pos = at & this.mask, first = Math.min(n, this.capacity - pos);
    if (n <= 32) {
      for (let i = 0; i < first; i++) bytes[pos + i] = src[i];
      for (let i = first; i < n; i++) bytes[i - first] = src[i];
    } else {
      bytes.set(first === src.length ? src : src.subarray(0, first), pos);
      if (first < n) bytes.set(src.subarray(first, n), 0);
    }
  }

  /** Copies `n` bytes from the ring at byte count `at` into `dst` at `offset`, wrapping. */
  protected copyOut(dst: Uint8Array, offset: number, n: number, at: number): void {
    const bytes = this.bytes, pos = at & this.mask, first = Math.min(n, this.capacity - pos);
    if (n <= 32) {
      for (let i = 0; i < first; i++) dst[offset + i] = bytes[pos + i];
      for (let i = first; i < n; i++) dst[offset + i] = bytes[i - first];
    } else {
      dst.set(bytes.subarray(pos, pos + first), offset);
      if (first < n) dst.set(bytes.subarray(0, n - first), offset + first);
    }
  }

  /** The byte at byte count `at`. */
  protected byte(at: number): number {
    return this.bytes[at & this.mask];
  }

  /** The u32 (little-endian) at byte count `at`, wrapping. */
  protected length(at: number): number {
    let n = 0;
    for (let i = 0; i < 4; i++) n |= this.byte(at + i) << (8 * i);
    return n >>> 0;
  }

  /** Frees a slot of a bounded queue. */
  protected freeSlot(): void {
    Atomics.sub(this.i32, RESERVED, 1);
    this.notify(SEQ_SPACE, WAIT_SPACE);
  }

  /** A reader taking the message that ends at `end` will free its slot (bounded queue). */
  protected slotFreedAt(end: number): void {
    if (this.maxsize === 0) return;
    Atomics.store(this.i32, GET_SLOT_AT, end);
    Atomics.store(this.i32, GET_SLOT, 1);
  }

  /** Frees the slot of a message read to its end, once (whoever gets the flag frees it). */
  protected settleSlot(): void {
    const i32 = this.i32;
    if (
      Atomics.load(i32, GET_SLOT) === 1
      && Atomics.load(i32, GET_SLOT_AT) === Atomics.load(i32, READ)
      && Atomics.exchange(i32, GET_SLOT, 0) === 1
    ) this.freeSlot();
  }
}
