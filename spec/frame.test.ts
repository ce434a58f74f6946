/**
 * The stdout frame decoder as a unit: a child's messages travel in its output stream as
 * `MAGIC, u32 length, body` among its plain console text, and the stream arrives in chunks cut
 * anywhere. Pins down that every message comes out whole and once, in its place among the text,
 * and that every byte outside a frame comes out as text, unchanged — however the chunks fall.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFrame, FrameDecoder } from "../src/runtime/frame.ts";
import { patternedBytes, sameBytes } from "./helpers.ts";

const MAGIC = [0x1e, 0x1d, 0x4d, 0x50, 0x58];
const enc = new TextEncoder();

type Event = { text: number[] } | { message: unknown };

/** A decoder that records what it emits, adjacent text merged (chunking may split text). */
function recorder(): { decoder: FrameDecoder; events: Event[] } {
  const events: Event[] = [];
  const decoder = new FrameDecoder(
    (message) => events.push({ message }),
    (text) => {
      assert.ok(text.length > 0, "no empty text is emitted");
      const last = events.at(-1);
      if (last && "text" in last) last.text.push(...text);
      else events.push({ text: [...text] });
    },
  );
  return { decoder, events };
}

/** A stream of parts (text or a frame) and the events it must decode to. */
function stream(parts: (string | Uint8Array | { message: unknown })[]) {
  const pieces: Uint8Array[] = [];
  const expected: Event[] = [];
  for (const part of parts) {
    if (typeof part === "string" || part instanceof Uint8Array) {
      const b = typeof part === "string" ? enc.encode(part) : part;
      if (b.length === 0) continue;
      pieces.push(b);
      const last = expected.at(-1);
      if (last && "text" in last) last.text.push(...b);
      else expected.push({ text: [...b] });
    } else {
      pieces.push(encodeFrame(part.message));
      expected.push({ message: part.message });
    }
  }
  const bytes = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  pieces.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  return { bytes, expected };
}

function decode(chunks: Uint8Array[]): Event[] {
  const { decoder, events } = recorder();
  for (const c of chunks) decoder.push(c);
  return events;
}

const sample = stream([
  "before\n",
  { message: { kind: "result", value: [1, "two", { three: 3n }] } },
  "between\x1e\x1d",
  { message: "second" },
  { message: null },
  "after",
]);

test("frame: encodeFrame is MAGIC, a little-endian u32 body length, then the body", () => {
  const f = encodeFrame({ a: 1 });
  assert.deepEqual([...f.subarray(0, 5)], MAGIC);
  const length = new DataView(f.buffer, f.byteOffset).getUint32(5, true);
  assert.equal(length, f.length - 9);
  assert.deepEqual(decode([f]), [{ message: { a: 1 } }]);
});

test("frame: text, frames and text between them in one chunk come out in stream order", () => {
  assert.deepEqual(decode([sample.bytes]), sample.expected);
});

test("frame: the stream split in two at every byte position decodes the same", () => {
  const b = sample.bytes;
  for (let i = 0; i <= b.length; i++) {
    assert.deepEqual(decode([b.slice(0, i), b.slice(i)]), sample.expected, `split at ${i}`);
  }
});

test("frame: a frame split in three at every pair of positions decodes the same", () => {
  const s = stream(["x", { message: { n: 42, s: "héllo" } }, "y"]);
  const b = s.bytes;
  for (let i = 0; i <= b.length; i++) {
    for (let j = i; j <= b.length; j++) {
      const got = decode([b.slice(0, i), b.slice(i, j), b.slice(j)]);
      assert.deepEqual(got, s.expected, `split at ${i} and ${j}`);
    }
  }
});

test("frame: the stream fed one byte at a time decodes the same", () => {
  const chunks = [...sample.bytes].map((x) => new Uint8Array([x]));
  assert.deepEqual(decode(chunks), sample.expected);
});

test("frame: many frames back to back in one chunk, no text, all delivered in order", () => {
  const s = stream(Array.from({ length: 100 }, (_, i) => ({ message: { i } })));
  const events = decode([s.bytes]);
  assert.equal(events.length, 100);
  assert.deepEqual(events, s.expected);
});

test("frame: text with no frame is emitted at once, not held for a later chunk", () => {
  const { decoder, events } = recorder();
  decoder.push(enc.encode("hello\n"));
  assert.deepEqual(events, [{ text: [...enc.encode("hello\n")] }]);
  decoder.push(enc.encode("world"));
  assert.deepEqual(events, [{ text: [...enc.encode("hello\nworld")] }]);
});

test("frame: only a tail that may begin MAGIC is held back, and released if MAGIC does not follow", () => {
  for (let keep = 1; keep < MAGIC.length; keep++) {
    const { decoder, events } = recorder();
    const head = [...enc.encode("abc"), ...MAGIC.slice(0, keep)];
    decoder.push(new Uint8Array(head));
    // "abc" right away; the possible start of a frame waits for the next chunk.
    assert.deepEqual(events, [{ text: [...enc.encode("abc")] }], `prefix of ${keep}`);
    decoder.push(enc.encode("def"));
    assert.deepEqual(events, [{ text: [...head, ...enc.encode("def")] }], `prefix of ${keep}`);
  }
});

test("frame: bytes of MAGIC in ordinary text (a lone RS, RS GS without MPX) pass through unchanged", () => {
  // (It ends in an ordinary byte: a stream's last bytes that may begin MAGIC are held back.)
  const text = new Uint8Array([
    0x1e,
    0x41,
    0x1e,
    0x1d,
    0x4d,
    0x50,
    0x1e,
    0x1e,
    0x1d,
    0x42,
    0x1e,
    0x43,
  ]);
  const s = stream([
    text,
    { message: 7 },
    text,
    { message: 8 },
    "\x1e\x1dMP\x1e",
    { message: 9 },
    ".",
  ]);
  for (let i = 0; i <= s.bytes.length; i++) {
    assert.deepEqual(decode([s.bytes.slice(0, i), s.bytes.slice(i)]), s.expected, `split ${i}`);
  }
});

test("frame: a partial frame at the end of the stream emits nothing, and completes later", () => {
  const frame = encodeFrame({ big: "x".repeat(100) });
  for (const cut of [1, 4, 5, 8, 9, 20, frame.length - 1]) {
    const { decoder, events } = recorder();
    decoder.push(new Uint8Array([...enc.encode("tail "), ...frame.subarray(0, cut)]));
    // The text before it is out; none of the frame's bytes pass for text, no message yet.
    assert.deepEqual(events, [{ text: [...enc.encode("tail ")] }], `cut at ${cut}`);
    decoder.push(frame.subarray(cut));
    assert.deepEqual(events[1], { message: { big: "x".repeat(100) } }, `cut at ${cut}`);
    assert.equal(events.length, 2);
  }
});

test("frame: a body that contains MAGIC is skipped by its length, not mistaken for a frame", () => {
  const payload = new Uint8Array([...MAGIC, 4, 0, 0, 0, ...MAGIC, 1, 2, 3]);
  const s = stream(["a", { message: payload }, "b", { message: { inner: payload } }, "c"]);
  for (let i = 0; i <= s.bytes.length; i += 3) {
    assert.deepEqual(decode([s.bytes.slice(0, i), s.bytes.slice(i)]), s.expected, `split ${i}`);
  }
});

test("frame: a 1 MiB payload (a 3-byte length) arrives whole from 64 KiB chunks", () => {
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
  const s = stream(["start ", { message: { big } }, " end"]);
  const length = new DataView(s.bytes.buffer).getUint32(6 + 5, true);
  assert.ok(length > 1 << 20, "the length field uses its third byte");
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < s.bytes.length; at += 65536 - 13) {
    chunks.push(s.bytes.slice(at, at + 65536 - 13));
  }
  const events = decode(chunks);
  assert.equal(events.length, 3);
  assert.deepEqual(events[0], { text: [...enc.encode("start ")] });
  const got = (events[1] as { message: { big: Uint8Array } }).message.big;
  assert.equal(got.length, big.length);
  assert.ok(got.every((x, i) => x === big[i]), "every byte of the payload");
  assert.deepEqual(events[2], { text: [...enc.encode(" end")] });
});

test("frame: a message emitted is not changed by later chunks (no view of a reused buffer)", () => {
  const got: unknown[] = [];
  const decoder = new FrameDecoder((m) => got.push(m));
  const payload = new Uint8Array([1, 2, 3, 4]);
  const f = encodeFrame(payload);
  // The frame and the start of the next one in one chunk, then the rest of the next one.
  const g = encodeFrame(new Uint8Array([9, 9, 9, 9]));
  decoder.push(new Uint8Array([...f, ...g.subarray(0, 10)]));
  decoder.push(g.subarray(10));
  assert.deepEqual(got, [payload, new Uint8Array([9, 9, 9, 9])]);
});

test("frame: onText defaults to dropping the text; messages still come through", () => {
  const got: unknown[] = [];
  const decoder = new FrameDecoder((m) => got.push(m));
  decoder.push(sample.bytes);
  assert.deepEqual(got, sample.expected.flatMap((e) => ("message" in e ? [e.message] : [])));
});

test("frame: at the end of the stream, held bytes that began no frame are text; a cut frame is dropped", () => {
  for (const tail of [[0x1e], [0x1e, 0x1d], [0x1e, 0x1d, 0x4d, 0x50]]) {
    const { decoder, events } = recorder();
    decoder.push(new Uint8Array([...enc.encode("bye"), ...tail]));
    assert.deepEqual(events, [{ text: [...enc.encode("bye")] }], "held until more comes");
    decoder.end();
    assert.deepEqual(events, [{ text: [...enc.encode("bye"), ...tail] }], `tail ${tail}`);
  }
  const { decoder, events } = recorder();
  decoder.push(encodeFrame({ cut: true }).subarray(0, 12));
  decoder.end();
  assert.deepEqual(events, [], "a frame cut off by the end is neither a message nor text");
});

test(
  "frame: a 32 MiB message from 64 KiB chunks, a frame and text after it: joined once, in linear time",
  {
    timeout: 60_000,
  },
  () => {
    const big = patternedBytes(32 << 20);
    const s = stream(["start ", { message: { big } }, { message: "next" }, " end"]);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < s.bytes.length; at += 65536) {
      chunks.push(s.bytes.subarray(at, at + 65536));
    }
    const t0 = performance.now();
    const events = decode(chunks);
    const ms = performance.now() - t0;
    // Joining each chunk to the bytes before it took ~20 s for this message through a pipe.
    assert.ok(ms < 5000, `decoded in ${Math.round(ms)} ms`);
    assert.equal(events.length, 4);
    assert.deepEqual(events[0], { text: [...enc.encode("start ")] });
    assert.ok(sameBytes((events[1] as { message: { big: unknown } }).message.big, big));
    assert.deepEqual(events.slice(2), [{ message: "next" }, { text: [...enc.encode(" end")] }]);
  },
);

test("frame: a handler that throws does not get its message again; the next ones follow", () => {
  const got: unknown[] = [];
  const decoder = new FrameDecoder((m) => {
    got.push(m);
    if (m === 1) throw new Error("handler failed");
  });
  const a = encodeFrame(1), b = encodeFrame(2);
  assert.throws(() => decoder.push(new Uint8Array([...a, ...b])), /handler failed/);
  decoder.push(encodeFrame(3));
  assert.deepEqual(got, [1, 2, 3]);
});
