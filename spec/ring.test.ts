/**
 * The shared ring under Queue and Pipe as a unit, in one thread: its operations are generators
 * that yield what they wait for, so a test steps a writer and a reader by hand — interleaving
 * them as two processes would, or abandoning one mid-operation as if it had died. Pins down the
 * byte accounting (wrap-around at every offset, counters past 2^31 and 2^32, exactly the free
 * space), streaming of a message larger than the ring, order, and that a reader gets each
 * message whole or not at all when a writer or reader stopped mid-message.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Scratch } from "../src/channels/message.ts";
import { END, type Op, Ring, TIMED_OUT } from "../src/channels/ring.ts";
import { myToken } from "../src/sync/owner.ts";

const CAP = 64;
const FRAME = 5; // u32 length + trailer byte
const PAST = 0; // a deadline already passed: operations give up instead of waiting
// The header (ring_store.ts): 256 bytes of words — the locks, the byte counters, the bound on
// messages, and the bounds of the message each side is at.
const HEADER = 256, PUT_LOCK = 0, GET_LOCK = 1, WRITTEN = 2, READ = 3, MAXSIZE = 9;
const MSG_START = 16, MSG_END = 17, GET_END = 19;
/** The token of a thread child of this process that has ended (its thread-table slot is 0). */
const DEAD = (myToken() & ((1 << 22) - 1)) | (400 << 22);

/**
 * A ring over a SharedArrayBuffer of our own whose data bytes start as 0xff, not zeros: a byte
 * read before it was written (a header published in part, a trailer never written) shows.
 */
function ring(maxsize = 0): Ring {
  const sab = new SharedArrayBuffer(HEADER + CAP);
  new Uint8Array(sab, HEADER).fill(0xff);
  const r = new Ring({ kind: "sab", sab, offset: 0, size: HEADER + CAP });
  Atomics.store(r.i32, MAXSIZE, maxsize);
  return r;
}

/** `len` bytes that differ with `seed` and position, so a misplaced byte shows. */
function payload(len: number, seed: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (seed * 131 + i * 7 + 1) & 0xff);
}

/** Runs an operation that must not wait. */
function now<T>(op: Op<T>): T | typeof TIMED_OUT | typeof END {
  const r = op.next();
  assert.ok(r.done, "the operation waited");
  return r.value;
}

/** Steps the operations round robin (each step runs one until it waits) until all are done. */
function drive(ops: Op<unknown>[], maxRounds = 100_000): unknown[] {
  const results: unknown[] = new Array(ops.length);
  const pending = new Set(ops.keys());
  for (let round = 0; pending.size > 0; round++) {
    assert.ok(round < maxRounds, "the operations made no progress");
    for (const i of [...pending]) {
      const r = ops[i].next();
      if (r.done) {
        results[i] = r.value;
        pending.delete(i);
      }
    }
  }
  return results;
}

function tryTake(r: Ring, into = new Scratch(16)): Uint8Array | null {
  const n = r.tryGet(into);
  return n < 0 ? null : into.bytes.slice(0, n);
}

/** Sets the counters of an empty ring to `at`. */
function fresh(r: Ring, at: number): void {
  for (const w of [WRITTEN, READ, MSG_START, MSG_END, GET_END]) Atomics.store(r.i32, w, at);
}

test("ring: the capacity is the power of two asked for", () => {
  const r = new Ring("thread", CAP, 0);
  assert.ok(r.tryPut(payload(CAP - FRAME, 1), CAP - FRAME), "a message of the whole ring fits");
  assert.equal(r.tryPut(new Uint8Array(0), 0), false, "and then not even an empty one");
});

test("ring: every payload size wraps at every offset, tryPut/tryGet and put/get alike", () => {
  const r = ring();
  const into = new Scratch(16);
  for (let len = 0; len <= CAP - FRAME; len++) {
    // 2*CAP messages: the write position passes the end of the ring again and again.
    for (let k = 0; k < 2 * CAP; k++) {
      const p = payload(len, k);
      if (k % 2 === 0) {
        assert.ok(r.tryPut(p, len), `tryPut of ${len} bytes, message ${k}`);
        assert.deepEqual(tryTake(r, into), p, `tryGet of ${len} bytes, message ${k}`);
      } else {
        assert.equal(now(r.put(p, PAST)), undefined, `put of ${len} bytes, message ${k}`);
        assert.deepEqual(now(r.get(PAST)), p, `get of ${len} bytes, message ${k}`);
      }
      assert.equal(r.items, 0);
    }
  }
});

test("ring: the byte counters wrap past 2^31 and 2^32 without losing a byte", () => {
  for (const start of [0x7fffffc0 | 0, 0xffffffc0 | 0, -3, 0x7ffffffd]) {
    const r = ring();
    fresh(r, start); // an empty ring whose counters are about to overflow
    const sent: Uint8Array[] = [];
    for (let k = 0; k < 40; k++) {
      const p = payload((k * 13) % 27, k); // two in the ring at most: 2 * (26 + 5) <= CAP
      assert.ok(r.tryPut(p, p.length), `from ${start}: tryPut ${k}`);
      sent.push(p);
      if (k % 3 !== 0 || sent.length === 2) {
        assert.deepEqual(now(r.get(PAST)), sent.shift(), `from ${start}: ${k}`);
      }
    }
    for (const p of sent) assert.deepEqual(tryTake(r), p, `from ${start}: the rest`);
    assert.equal(tryTake(r), null);
  }
});

test("ring: tryPut succeeds exactly when the free space holds the message and its frame", () => {
  const r = ring();
  assert.equal(r.tryPut(payload(CAP - FRAME + 1, 0), CAP - FRAME + 1), false, "one byte over");
  assert.equal(tryTake(r), null, "a refused tryPut wrote nothing");
  assert.ok(r.tryPut(payload(10, 1), 10));
  const free = CAP - (10 + FRAME);
  assert.equal(r.tryPut(payload(free - FRAME + 1, 2), free - FRAME + 1), false, "one byte over");
  assert.ok(r.tryPut(payload(free - FRAME, 2), free - FRAME), "exactly the free space");
  assert.equal(r.items, 2);
  assert.deepEqual(tryTake(r), payload(10, 1));
  assert.deepEqual(tryTake(r), payload(free - FRAME, 2));
});

test("ring: a message's header is published whole: with under 4 bytes free, the writer waits", () => {
  const r = ring();
  assert.ok(r.tryPut(payload(57, 1), 57)); // 62 bytes: 2 free
  const next = payload(20, 2);
  const writer = r.put(next, undefined);
  assert.equal(writer.next().done, false, "waits for room");
  assert.deepEqual(tryTake(r), payload(57, 1));
  assert.equal(now(r.poll(PAST)), false, "nothing of the next message was published");
  const [got, put] = drive([r.get(undefined), writer]);
  assert.deepEqual(got, next);
  assert.equal(put, undefined);
});

test("ring: a full ring refuses tryPut, and takes it again once a message is read", () => {
  const r = ring();
  for (let k = 0; k < CAP / 16; k++) assert.ok(r.tryPut(payload(11, k), 11), `message ${k}`);
  assert.equal(r.tryPut(payload(0, 9), 0), false, "full");
  assert.equal(now(r.put(payload(0, 9), PAST)), TIMED_OUT, "put gives up at its deadline");
  assert.deepEqual(tryTake(r), payload(11, 0));
  assert.ok(r.tryPut(payload(11, 4), 11), "room again");
  for (let k = 1; k <= 4; k++) assert.deepEqual(tryTake(r), payload(11, k), `in order: ${k}`);
  assert.equal(r.items, 0);
});

test("ring: an empty ring says so: tryGet -1, get and poll time out, or END once eof() holds", () => {
  const r = ring();
  assert.equal(r.tryGet(new Scratch()), -1);
  assert.equal(now(r.get(PAST)), TIMED_OUT);
  assert.equal(now(r.get(undefined, () => true)), END);
  assert.equal(now(r.poll(PAST)), false);
  assert.equal(now(r.poll(PAST, () => true)), true);
  const decode = (b: Uint8Array, _v: DataView, n: number) => b.slice(0, n);
  assert.equal(now(r.take(new Scratch(), decode, PAST)), TIMED_OUT);
  r.tryPut(payload(3, 3), 3);
  assert.equal(now(r.poll(PAST)), true);
  assert.deepEqual(now(r.take(new Scratch(), decode, PAST)), payload(3, 3));
});

test("ring: random puts and gets keep order across wraps, against a model", () => {
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const r = ring();
  const model: Uint8Array[] = [];
  const fill = () => model.reduce((n, p) => n + p.length + FRAME, 0);
  for (let k = 0; k < 5000; k++) {
    if (rand(2) === 0) {
      const p = payload(rand(CAP - FRAME + 1), k);
      const fits = CAP - fill() >= p.length + FRAME;
      const put = rand(2) === 0 ? r.tryPut(p, p.length) : fits && now(r.put(p, PAST)) !== TIMED_OUT;
      assert.equal(put, fits, `op ${k}: put of ${p.length} with ${fill()} bytes in the ring`);
      if (put) model.push(p);
    } else {
      const got = rand(2) === 0 ? tryTake(r) : now(r.get(PAST));
      assert.deepEqual(got, model.shift() ?? (got === null ? null : TIMED_OUT), `op ${k}: get`);
    }
    assert.equal(r.items, model.length);
  }
});

test("ring: a message larger than the ring streams through it to a reader stepped alongside", () => {
  for (const len of [CAP - FRAME + 1, CAP, 10 * CAP + 3, 0x10203]) {
    const r = ring();
    const big = payload(len, len);
    assert.equal(r.tryPut(big, len), false, "tryPut never streams");
    const decode = (b: Uint8Array, _v: DataView, n: number) => b.slice(0, n);
    const [put, got] = drive([r.put(big, undefined), r.get(undefined)]);
    assert.equal(put, undefined);
    assert.deepEqual(got, big, `${len} bytes whole`);
    const [, taken] = drive([r.put(big, undefined), r.take(new Scratch(16), decode, undefined)]);
    assert.deepEqual(taken, big, "take streams it too");
    assert.equal(r.items, 0);
  }
});

test("ring: a put that times out mid-message is torn: no reader ever sees part of it", () => {
  const r = ring();
  const big = payload(3 * CAP, 7);
  assert.equal(now(r.put(big, PAST)), TIMED_OUT, "published CAP bytes, then gave up");
  assert.equal(r.tryGet(new Scratch()), -1, "tryGet does not take a message not whole");
  assert.equal(r.tryPut(payload(1, 1), 1), false, "tryPut does not write behind a torn message");
  // A reader drops it: no live writer owes the rest (the put lock is free).
  assert.equal(now(r.get(PAST)), TIMED_OUT);
  assert.ok(r.tryPut(payload(9, 9), 9));
  assert.deepEqual(tryTake(r), payload(9, 9), "the next message is whole");
  assert.equal(r.items, 0);
});

test("ring: a torn message completed with zeros is refused by tryGet and dropped by get", () => {
  const r = ring();
  // Ones: where the torn message's trailer goes, a byte left unwritten would read as 1.
  const ones = new Uint8Array(40).fill(1);
  assert.ok(r.tryPut(ones, 40)); // 45 bytes: 19 free
  assert.equal(now(r.put(payload(30, 2), PAST)), TIMED_OUT, "19 of its 35 bytes published");
  assert.deepEqual(tryTake(r), ones);
  assert.equal(r.tryPut(payload(1, 3), 1), false, "no tryPut behind a torn message, room or not");
  // The next writer completes it with zeros (trailer 0), then puts its own message after it.
  assert.equal(now(r.put(payload(6, 4), PAST)), undefined);
  assert.equal(r.tryGet(new Scratch()), -1, "a whole message with a trailer of 0 is not taken");
  assert.deepEqual(now(r.get(PAST)), payload(6, 4));
  assert.equal(r.items, 0);
});

test("ring: the next writer completes a torn message with zeros, and the reader drops it", () => {
  const r = ring();
  assert.equal(now(r.put(payload(3 * CAP, 7), PAST)), TIMED_OUT);
  const next = payload(20, 8);
  // The writer steps first: it takes the put lock before the reader could drop the message.
  const [put, got] = drive([r.put(next, undefined), r.get(undefined)]);
  assert.equal(put, undefined);
  assert.deepEqual(got, next);
  assert.equal(r.items, 0);
  assert.equal(tryTake(r), null);
});

test("ring: a writer that died mid-message (holding the put lock) is recovered by a reader", () => {
  const r = ring();
  const dying = r.put(payload(3 * CAP, 1), undefined);
  assert.equal(dying.next().done, false, "it published what fitted and waits for room");
  Atomics.store(r.i32, PUT_LOCK, DEAD); // ... and dies there
  assert.equal(r.tryPut(payload(1, 1), 1), false);
  assert.equal(now(r.get(PAST)), TIMED_OUT, "the reader dropped the torn message");
  assert.ok(r.tryPut(payload(5, 5), 5), "the put lock was released");
  assert.deepEqual(tryTake(r), payload(5, 5));
});

test("ring: a writer that died mid-message is recovered by the next writer", () => {
  const r = ring();
  const dying = r.put(payload(3 * CAP, 1), undefined);
  assert.equal(dying.next().done, false);
  Atomics.store(r.i32, PUT_LOCK, DEAD);
  const next = payload(40, 2);
  const [put, got] = drive([r.put(next, undefined), r.get(undefined)]);
  assert.equal(put, undefined);
  assert.deepEqual(got, next, "whole, and nothing of the dead writer's message");
  assert.equal(tryTake(r), null);
});

test("ring: a writer that died before publishing anything leaves no trace", () => {
  const r = ring();
  for (let k = 0; k < 4; k++) assert.ok(r.tryPut(payload(11, k), 11)); // full
  const dying = r.put(payload(30, 9), undefined);
  assert.equal(dying.next().done, false, "waits for room with nothing published");
  Atomics.store(r.i32, PUT_LOCK, DEAD);
  assert.deepEqual(tryTake(r), payload(11, 0));
  assert.deepEqual(tryTake(r), payload(11, 1));
  // (It spins once on the held lock, then takes it over from the dead.)
  assert.deepEqual(drive([r.put(payload(20, 20), PAST)]), [undefined]);
  for (const k of [2, 3]) assert.deepEqual(tryTake(r), payload(11, k));
  assert.deepEqual(tryTake(r), payload(20, 20));
  assert.equal(tryTake(r), null);
});

test("ring: a reader that died mid-message: the next reader drops the rest of it", () => {
  const r = ring();
  // Its payload looks like messages of 3 bytes from every 8th byte the reader may stop at: a
  // reader that took the rest for messages would return one.
  const fake = new Uint8Array(5 * CAP).map((_, i) =>
    [3, 0, 0, 0, 0xee, 0xee, 0xee, 1][(i + 4) % 8]
  );
  const writer = r.put(fake, undefined);
  const dying = r.get(undefined);
  for (let k = 0; k < 3; k++) {
    writer.next();
    assert.equal(dying.next().done, false, "reading the message, part by part");
  }
  Atomics.store(r.i32, GET_LOCK, DEAD); // the reader dies mid-message
  assert.equal(r.tryGet(new Scratch()), -1);
  const next = payload(33, 2);
  const [, got] = drive([writer, r.get(undefined), r.put(next, undefined)]);
  assert.deepEqual(got, next, "not the rest of the dead reader's message");
  assert.equal(tryTake(r), null);
});

test("ring: a bounded ring holds maxsize messages; a torn one frees its slot exactly once", () => {
  const r = ring(2);
  assert.equal(r.maxsize, 2);
  assert.equal(r.tryPut(payload(1, 1), 1), false, "tryPut is for unbounded rings only");
  assert.equal(now(r.put(payload(1, 1), PAST)), undefined);
  assert.equal(now(r.put(payload(2, 2), PAST)), undefined);
  assert.equal(now(r.put(payload(3, 3), PAST)), TIMED_OUT, "no slot");
  assert.deepEqual(tryTake(r), payload(1, 1));
  assert.equal(now(r.put(payload(3, 3), PAST)), undefined, "a slot again");
  assert.deepEqual(now(r.get(PAST)), payload(2, 2));
  assert.deepEqual(now(r.get(PAST)), payload(3, 3));
  // A put that times out with nothing published (no room) gives its slot back.
  assert.equal(now(r.put(payload(CAP - FRAME, 8), PAST)), undefined); // fills the ring
  assert.equal(now(r.put(payload(1, 9), PAST)), TIMED_OUT, "a slot, but no room");
  assert.deepEqual(now(r.get(PAST)), payload(CAP - FRAME, 8));
  // A torn message owns its slot until a reader drops it, then frees it once: two fit again.
  assert.equal(now(r.put(payload(3 * CAP, 4), PAST)), TIMED_OUT);
  assert.equal(now(r.get(PAST)), TIMED_OUT);
  assert.equal(now(r.put(payload(5, 5), PAST)), undefined);
  assert.equal(now(r.put(payload(6, 6), PAST)), undefined);
  assert.equal(now(r.put(payload(7, 7), PAST)), TIMED_OUT, "but not three");
  assert.deepEqual(now(r.get(PAST)), payload(5, 5));
  assert.deepEqual(now(r.get(PAST)), payload(6, 6));
  // A writer that died holding a slot and having published nothing: the next writer frees it.
  assert.equal(now(r.put(payload(CAP - FRAME, 8), PAST)), undefined); // fills the ring
  const dying = r.put(payload(1, 9), undefined);
  assert.equal(dying.next().done, false, "holds a slot, waits for room");
  Atomics.store(r.i32, PUT_LOCK, DEAD);
  assert.deepEqual(now(r.get(PAST)), payload(CAP - FRAME, 8));
  assert.deepEqual(drive([r.put(payload(1, 10), PAST)]), [undefined]);
  assert.equal(now(r.put(payload(1, 11), PAST)), undefined, "two slots: the dead one's is free");
  assert.equal(now(r.put(payload(1, 12), PAST)), TIMED_OUT);
});

// A reader that dies mid-message never takes its message off ITEMS: the reader that drops the
// rest of it does (it failed before: `items`, so Queue.qsize(), empty(), full(), stayed one too
// high for good, on a ring with nothing in it).
test("ring: after a reader died mid-message and was recovered, items counts what is there", () => {
  const r = ring();
  const writer = r.put(payload(5 * CAP, 1), undefined);
  const dying = r.get(undefined);
  for (let k = 0; k < 3; k++) {
    writer.next();
    dying.next();
  }
  Atomics.store(r.i32, GET_LOCK, DEAD);
  const next = payload(3, 2);
  drive([writer, r.get(undefined), r.put(next, undefined)]);
  assert.equal(tryTake(r), null, "the ring is empty");
  assert.equal(r.items, 0, "and says so");
});
