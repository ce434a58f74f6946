/**
 * The cluster's codec as a unit (src/cluster/codec.ts): what it encodes comes back as structured
 * clone would give it — plain data as JSON text behind a mark, the rest (and plain data that JSON
 * would change: NaN, holes, a shared or cyclic object, a `__proto__` key) as MessagePack. (-0
 * arrives as 0 either way: MessagePack has no negative zero integer.)
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { test } from "node:test";
import { loadCodec } from "../src/cluster/codec.ts";

const codec = await loadCodec();
const back = (v: unknown) => codec.decode(codec.encode(v));

test("codec: plain data goes as JSON and comes back equal", () => {
  const values: unknown[] = [
    0,
    -1.5,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    "text",
    "\u00e9\u{1F600}",
    true,
    null,
    [],
    {},
    [1, "two", [3, { four: 4 }], null],
    { a: { b: { c: [1, 2, 3] } }, "": "empty key" },
    Array.from({ length: 1000 }, (_, i) => i * 0.5),
  ];
  for (const v of values) {
    const text = codec.encode(v);
    assert.equal(text[0], "~", `${JSON.stringify(v)} as JSON`);
    assert.deepEqual(codec.decode(text), v);
  }
  // -0 goes as JSON too: it comes back 0, as it would from MessagePack.
  assert.equal(codec.encode([-0]), "~[0]");
  assert.ok(Object.is((back([-0]) as number[])[0], 0));
});

test("codec: what JSON would change goes as MessagePack and keeps what it is", () => {
  const shared = { s: 1 };
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const cases: unknown[] = [
    NaN,
    Infinity,
    undefined,
    10n,
    [1, undefined],
    { missing: undefined },
    { when: new Date(0) },
    [new Map([[1, new Set(["a"])]])],
    new Uint8Array([1, 2, 3]),
  ];
  cases.forEach((v, i) => {
    const text = codec.encode(v);
    assert.notEqual(text[0], "~", `case ${i} not as JSON`);
    const got = back(v);
    if (typeof v === "number") assert.ok(Object.is(got, v), `${v} came back as ${got}`);
    else assert.deepEqual(got, v, `case ${i}`);
  });
  // An object without a prototype: not JSON; back as a plain object (as structured clone gives).
  const bare = Object.assign(Object.create(null), { bare: 1 });
  assert.notEqual(codec.encode(bare)[0], "~");
  assert.deepEqual(back(bare), { bare: 1 });
  // A "__proto__" key: not JSON (as before it, msgpackr renames it on the way: no prototype set).
  const proto = codec.encode(JSON.parse("{\"__proto__\": {\"x\": 1}}"));
  assert.notEqual(proto[0], "~");
  assert.equal(Object.getPrototypeOf(codec.decode(proto)), Object.prototype);
  // A hole: not JSON; MessagePack gives it back as undefined.
  assert.notEqual(codec.encode([1, , 3])[0], "~");
  assert.deepEqual(back([1, , 3]), [1, undefined, 3]);
  const pair = back([shared, shared]) as object[];
  assert.equal(pair[0], pair[1], "a shared object stays one object");
  const again = back(cyclic) as Record<string, unknown>;
  assert.equal(again.self, again, "a cycle stays a cycle");
  const deep = back(JSON.parse("[".repeat(100) + "]".repeat(100)));
  assert.deepEqual(deep, JSON.parse("[".repeat(100) + "]".repeat(100)));
});

test("codec: errors keep name, message, stack and cause, inside plain data too", () => {
  const e = new RangeError("out", { cause: new Error("inner") });
  const [got] = back([e]) as [RangeError];
  assert.ok(got instanceof RangeError);
  assert.equal(got.message, "out");
  assert.equal(got.stack, e.stack);
  assert.equal((got.cause as Error).message, "inner");
});

test("codec: packed for a key of its own, plain data is JSON text and the rest bytes", () => {
  const numbers = [1, 2.5, "three"];
  assert.equal(codec.pack(numbers), "~[1,2.5,\"three\"]");
  const bytes = new Uint8Array([1, 2, 3]);
  const packed = codec.pack([bytes, new Date(0)]);
  assert.ok(packed instanceof Uint8Array, "MessagePack, as bytes (no base64)");
  const [b, d] = codec.decode(packed) as [Uint8Array, Date];
  assert.deepEqual([...b], [1, 2, 3]);
  assert.equal(d.getTime(), 0);
  // The same value inline (in a job) is base64 of the same bytes.
  assert.equal(codec.inline(packed), Buffer.from(packed).toString("base64"));
  assert.deepEqual(codec.decode(codec.inline(packed)), codec.decode(packed));
  // Sizes as Redis keeps them: UTF-8 for text.
  assert.equal(codec.bytes("~\u00e9"), 3);
  assert.equal(codec.bytes(packed), packed.byteLength);
  // To Redis as a Buffer over the same memory: ioredis writes another typed array as text.
  const plain = new Uint8Array([9, 8]);
  const wire = codec.forRedis(plain) as Uint8Array;
  assert.ok(Buffer.isBuffer(wire));
  assert.equal(wire.buffer, plain.buffer);
});
