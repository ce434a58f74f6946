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
  assert.ok(wireColumn(numbers) instanceof Float64Array);
  assert.ok("text" in wireColumn(strings));
  assert.ok("keys" in wireColumn(records));
  for (const kept of [numbers.slice(0, 31), [...strings.slice(1), 1], [...records.slice(1), []]]) {
    assert.equal(wireColumn(kept), kept);
  }
  for (const column of [numbers, strings, records]) {
    assert.deepEqual(Array.from(fromWireColumn(structuredClone(wireColumn(column)))), column);
  }
});

test("columns: strings join only up to 2^26 code units in all", () => {
  const half = "x".repeat(2 ** 25);
  const at = (extra: number) => [half, half, ...Array(29).fill(""), "y".repeat(extra)];
  assert.equal(at(0).reduce((a, s) => a + s.length, 0), 2 ** 26);
  const joined = stringColumn(at(0));
  assert.ok(joined && joined.text.length === 2 ** 26);
  assert.equal(stringColumn(at(1)), null); // one code unit more: crosses as the array
});
