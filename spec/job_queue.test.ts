/**
 * The pool's queue of waiting tasks as a unit: tasks that leave while they wait (cancelled,
 * stopped) are counted out at once and dropped when reached, never handed out; checked against a
 * plain array of the live tasks as the model, by a seeded random sequence of operations.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { JobQueue } from "../src/pool/job_queue.ts";

/** A seeded generator of integers below `n` (a linear congruential one: the same every run). */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) % n;
}

test("job queue: a task that leaves is not counted, not peeked, not taken", () => {
  const live = new Set([1, 2, 3, 4]);
  const q = new JobQueue<number>((j) => live.has(j));
  for (const j of live) q.push(j);
  live.delete(1);
  q.left();
  live.delete(3);
  q.left();
  assert.equal(q.size, 2);
  assert.equal(q.peek(), 2);
  q.shift();
  assert.equal(q.size, 1);
  assert.equal(q.peek(), 4, "3 left: skipped");
  q.requeue([2]);
  assert.deepEqual(q.takeAll(), [2, 4]);
  assert.equal(q.size, 0);
  assert.equal(q.peek(), undefined);
});

test("job queue: takeWhere takes the live matches in order, keeps the rest, drops the gone", () => {
  const live = new Set([1, 2, 3, 4, 5, 6]);
  const q = new JobQueue<number>((j) => live.has(j));
  for (const j of live) q.push(j);
  live.delete(4);
  q.left();
  assert.deepEqual(q.takeWhere((j) => j % 2 === 0), [2, 6]);
  assert.equal(q.size, 3);
  assert.deepEqual(q.takeAll(), [1, 3, 5]);
});

test("job queue: matches a model over a long random sequence", () => {
  const next = random(14);
  const live = new Set<number>();
  const q = new JobQueue<number>((j) => live.has(j));
  let model: number[] = []; // the live tasks, in queue order
  let id = 0;
  for (let step = 0; step < 20_000; step++) {
    const op = next(10);
    if (op < 4) {
      live.add(++id);
      q.push(id);
      model.push(id);
    } else if (op < 6 && model.length > 0) {
      const gone = model.splice(next(model.length), 1)[0]; // cancelled while it waits
      live.delete(gone);
      q.left();
    } else if (op < 8) {
      const j = q.peek();
      assert.equal(j, model[0], `step ${step}: peek`);
      if (j !== undefined && next(2) === 0) {
        q.shift();
        model.shift();
        if (next(3) === 0) { // sent to a worker that died before starting it
          q.requeue([j]);
          model.unshift(j);
        }
      }
    } else if (op === 8 && next(20) === 0) {
      const taken = q.takeWhere((j) => j % 3 === 0);
      assert.deepEqual(taken, model.filter((j) => j % 3 === 0), `step ${step}: takeWhere`);
      model = model.filter((j) => j % 3 !== 0);
    } else if (op === 9 && next(50) === 0) {
      assert.deepEqual(q.takeAll(), model, `step ${step}: takeAll`);
      model = [];
    }
    assert.equal(q.size, model.length, `step ${step}: size`);
  }
});
