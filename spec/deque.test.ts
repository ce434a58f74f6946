/**
 * The pool's task queue as a unit: first in, first out across its compactions (a head index into
 * an array, cut down now and then), tasks put back at the front in their order, taken all at
 * once or filtered — checked against a plain array as the model, by a seeded random sequence of
 * operations long enough to compact many times.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deque } from "../src/pool/deque.ts";

/** A seeded generator of integers below `n` (a linear congruential one: the same every run). */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) % n;
}

function check<T>(d: Deque<T>, model: T[], at: string): void {
  assert.equal(d.size, model.length, `${at}: size`);
  assert.equal(d.peek(), model[0], `${at}: peek`);
}

test("deque: an empty deque has size 0, and peek and shift give undefined", () => {
  const d = new Deque<number>();
  assert.equal(d.size, 0);
  assert.equal(d.peek(), undefined);
  assert.equal(d.shift(), undefined);
  assert.equal(d.size, 0, "shifting an empty deque leaves it empty");
  assert.deepEqual(d.takeAll(), []);
  d.retain(() => true);
  d.unshiftAll([]);
  assert.equal(d.size, 0);
});

test("deque: push then shift is first in, first out; peek does not take", () => {
  const d = new Deque<string>();
  for (const x of ["a", "b", "c"]) d.push(x);
  assert.equal(d.peek(), "a");
  assert.equal(d.size, 3);
  assert.equal(d.shift(), "a");
  assert.equal(d.peek(), "b");
  d.push("d");
  assert.deepEqual([d.shift(), d.shift(), d.shift(), d.shift()], ["b", "c", "d", undefined]);
});

test("deque: unshiftAll puts items back at the front, in their order, after shifts", () => {
  const d = new Deque<number>();
  for (let i = 0; i < 5; i++) d.push(i);
  d.shift();
  d.shift();
  d.unshiftAll([10, 11]);
  assert.deepEqual(d.takeAll(), [10, 11, 2, 3, 4]);
  assert.equal(d.size, 0, "takeAll empties it");
  d.push(7);
  assert.equal(d.shift(), 7, "usable after takeAll");
});

test("deque: retain keeps the matching items in order, not the ones already shifted", () => {
  const d = new Deque<number>();
  for (let i = 0; i < 10; i++) d.push(i);
  d.shift(); // 0 is gone: retain must not bring it back
  d.retain((x) => x % 2 === 0);
  assert.equal(d.size, 4);
  assert.deepEqual(d.takeAll(), [2, 4, 6, 8]);
});

test("deque: order and size hold across compactions (thousands of pushes and shifts)", () => {
  const d = new Deque<number>();
  const model: number[] = [];
  let next = 0;
  // Grow to 5000, then drain while pushing a few: the head passes 1024 and the half of the
  // array many times, so the deque compacts again and again mid-stream.
  for (let i = 0; i < 5000; i++) d.push(next), model.push(next++);
  for (let i = 0; model.length > 0; i++) {
    assert.equal(d.shift(), model.shift(), `shift ${i}`);
    if (i % 3 === 0) d.push(next), model.push(next++);
    if (i % 997 === 0) check(d, model, `shift ${i}`);
  }
  check(d, model, "drained");
  assert.equal(d.shift(), undefined);
});

test("deque: a seeded random sequence of every operation matches a plain array", () => {
  for (const seed of [1, 2, 3, 0xdecade]) {
    const rand = random(seed);
    const d = new Deque<number>();
    let model: number[] = [];
    let next = 0;
    for (let op = 0; op < 6000; op++) {
      const at = `seed ${seed}, op ${op}`;
      const r = rand(100);
      if (r < 48) {
        // Push bursts, so the deque grows past compaction sizes.
        for (let k = rand(8); k >= 0; k--) d.push(next), model.push(next++);
      } else if (r < 92) {
        for (let k = rand(8); k >= 0; k--) assert.equal(d.shift(), model.shift(), at);
      } else if (r < 96) {
        const back = Array.from({ length: rand(5) }, () => next++);
        d.unshiftAll(back);
        model = [...back, ...model];
      } else if (r < 98) {
        const m = 2 + rand(5);
        d.retain((x) => x % m !== 0);
        model = model.filter((x) => x % m !== 0);
      } else if (r < 99) {
        assert.deepEqual(d.takeAll(), model, at);
        model = [];
      } else {
        assert.equal(d.peek(), model[0], at);
      }
      check(d, model, at);
    }
    assert.deepEqual(d.takeAll(), model, `seed ${seed}: the end`);
  }
});

test("deque: a long run of shifts compacts without losing items pushed meanwhile", () => {
  // Around the compaction threshold exactly: head 1025 of an array of 2049 and 2050.
  for (const total of [1025, 1026, 2049, 2050, 2051, 4096]) {
    const d = new Deque<number>();
    for (let i = 0; i < total; i++) d.push(i);
    for (let i = 0; i < 1025; i++) assert.equal(d.shift(), i, `${total}: shift ${i}`);
    d.push(total);
    assert.equal(d.size, total - 1025 + 1, `${total}: size`);
    const rest = d.takeAll();
    assert.deepEqual(rest, Array.from({ length: total - 1025 + 1 }, (_, i) => 1025 + i));
  }
});

test("deque: items that are falsy (0, '', null, false) are kept and returned as such", () => {
  const d = new Deque<unknown>();
  const items = [0, "", null, false, Number.NaN];
  for (const x of items) d.push(x);
  assert.equal(d.size, items.length);
  for (const x of items) assert.equal(d.shift(), x);
  assert.equal(d.size, 0);
});
