/**
 * A chunk's columns as they cross (src/pool/columns.ts): which form each takes, and that every
 * form gives back the same values. (Through real pools: pool.test.ts, "records".)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromWireColumn, stringColumn, wireColumn } from "../src/pool/columns.ts";

test("columns: numbers, strings and records take their forms; short or mixed ones stay arrays", () => {
  const n = 40;
  const numbers = Array.from({ length: n }, (_, i) => i / 3);
  const strings = Array.from({ length: n }, (_, i) => `s${i}`);
  const records = Array.from({ length: n }, (_, i) => ({ i, s: `s${i}`, b: i % 2 === 0 }));
  assert.ok("f64" in wireColumn(numbers));
  assert.ok("i32" in wireColumn(numbers.map((_, i) => i - 20)));
  assert.ok("text" in wireColumn(strings));
  assert.ok("keys" in wireColumn(records));
  for (const kept of [numbers.slice(0, 31), [...strings.slice(1), 1], [...records.slice(1), []]]) {
    assert.equal(wireColumn(kept), kept);
  }
  for (const column of [numbers, strings, records]) {
    assert.deepEqual(Array.from(fromWireColumn(structuredClone(wireColumn(column)))), column);
  }
});

test("columns: integers of 32 bits cross as an Int32Array; -0, larger ones and others as numbers", () => {
  const ints = Array.from({ length: 40 }, (_, i) => (i % 2 ? -1 : 1) * i * 50_000_000);
  assert.ok(ints.every((x) => (x | 0) === x));
  const wide = [...ints, 2 ** 31, -(2 ** 31)];
  const minusZero = [...ints.slice(1), -0];
  const mixed = [...ints.slice(1), 0.5];
  const odd = [...ints.slice(3), NaN, Infinity, -Infinity];
  assert.ok("i32" in wireColumn(ints));
  for (const column of [wide, minusZero, mixed, odd]) {
    assert.ok("f64" in wireColumn(column));
  }
  for (const column of [ints, wide, minusZero, mixed, odd]) {
    const back = Array.from(fromWireColumn(structuredClone(wireColumn(column))));
    assert.equal(back.length, column.length);
    column.forEach((x, i) => assert.ok(Object.is(back[i], x), `item ${i}: ${back[i]} for ${x}`));
  }
});

test("columns: a non-number after integers or fractions keeps the array; no valueOf is called", () => {
  let called = 0;
  const tricky = { valueOf: () => (called++, 1) };
  const ints = Array.from({ length: 40 }, (_, i) => i);
  const fractions = ints.map((i) => i / 2);
  for (const base of [ints, fractions]) {
    for (const odd of [tricky, "1", true, undefined, null, 1n]) {
      for (const at of [1, 20, 39]) {
        const column = base.slice();
        column[at] = odd as number;
        assert.equal(wireColumn(column), column, `${typeof odd} at ${at}`);
      }
    }
  }
  assert.equal(called, 0);
  const floatsAfterInts = [...ints.slice(0, 35), 0.5, 2 ** 40, ...ints.slice(0, 3)];
  const wire = wireColumn(floatsAfterInts);
  assert.ok("f64" in wire);
  assert.deepEqual(Array.from(fromWireColumn(structuredClone(wire))), floatsAfterInts);
});

test("columns: strings join only up to 2^26 code units in all", () => {
  const half = "x".repeat(2 ** 25);
  const at = (extra: number) => [half, half, ...Array(29).fill(""), "y".repeat(extra)];
  assert.equal(at(0).reduce((a, s) => a + s.length, 0), 2 ** 26);
  const joined = stringColumn(at(0));
  assert.ok(joined && joined.text.length === 2 ** 26);
  assert.equal(stringColumn(at(1)), null); // one code unit more: crosses as the array
});
