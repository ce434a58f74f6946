/**
 * A pool's tasks as units (src/pool/jobs.ts): a task made by `newJob`, or the settled future
 * instead when its arguments cannot go; and `triageUnsent`, which splits a batch whose message
 * could not be sent into the tasks that cannot go (failed, their argument named by its place in
 * the whole map) and those to send again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Future } from "../src/futures/future.ts";
import type { AnyFn } from "../src/pool/calls.ts";
import { type Job, type JobHome, newJob, triageUnsent } from "../src/pool/jobs.ts";
import { JOB_ONE } from "../src/pool/protocol.ts";
import { SendWindow } from "../src/pool/send_window.ts";

const WHAT = "ProcessPoolExecutor.map()";

const home: JobHome<string> = {
  method: "thread",
  what: WHAT,
  owner: { cancelQueued: () => false, stopRunning: () => false },
  entry: () => ({ id: 1, ref: null, error: null, window: new SendWindow() }),
  stop: () => {},
};
const fn: AnyFn = (x: unknown) => x;

/** A task as newJob makes it (its arguments cloneable), or fails if it made none. */
function job(
  id: number,
  ...[args, chunk]: [unknown[], Parameters<typeof newJob>[3]?]
): Job<string> {
  const made = newJob(id, fn, args, chunk, undefined, home);
  assert.ok(!(made instanceof Future), `task ${id} was refused`);
  return made;
}

test("jobs: newJob gives the settled future instead of a task it cannot make", async () => {
  const refused = newJob(1, fn, [() => 1], undefined, undefined, home);
  assert.ok(refused instanceof Future);
  await assert.rejects(refused.result(), /ProcessPoolExecutor.map\(\): argument 0 cannot be sent/);
  const signal = AbortSignal.abort();
  const aborted = newJob(2, fn, [1], undefined, { signal }, home);
  assert.ok(aborted instanceof Future && aborted.cancelled());
  const made = job(3, [1, { a: [2] }]);
  assert.equal(made.chunk, undefined);
  assert.equal(made.future.done(), false);
  // A call of one primitive keeps the argument itself (JOB_ONE), no array; any other, a list.
  const one = job(4, ["x"]);
  assert.equal(one.args, "x");
  assert.equal(one.flags & JOB_ONE, JOB_ONE);
  for (const args of [[], [1, 2], [{ a: 1 }], [[1]]]) {
    const other = job(5, args);
    assert.equal(other.flags & JOB_ONE, 0, `${JSON.stringify(args)}`);
    assert.deepEqual(other.args, args);
  }
});

test("jobs: an unsent batch fails the tasks that do not clone, naming the map's item", () => {
  // Arguments the encoding let through but the send refused (changed after the check here).
  const rows = job(1, [], { kind: "rows", rows: [[1], [2], [3]], first: 1000 });
  ((rows.args as unknown[])[1] as unknown[][])[2] = [Symbol("not sendable")];
  const cols = job(2, [], {
    kind: "cols",
    cols: [[{ a: 1 }, { a: 2 }], [{ b: 1 }, { b: 2 }]],
    first: 5,
  });
  (((cols.args as unknown[])[1] as unknown[][])[1] as unknown[])[1] = () => 1;
  const call = job(3, [{ x: 1 }, { y: 2 }]);
  (call.args as unknown[])[1] = new WeakMap();
  const fine = job(4, [{ x: 1 }]);
  const { failed, again } = triageUnsent([rows, cols, call, fine], new Error("send"), WHAT);
  assert.deepEqual(again, [fine]);
  const messages = new Map(failed.map(([j, e]) => [j.id, (e as Error).message]));
  assert.match(
    messages.get(1)!,
    /^ProcessPoolExecutor.map\(\): item 1002, argument 0 cannot be sent/,
  );
  assert.match(messages.get(2)!, /^ProcessPoolExecutor.map\(\): item 6, argument 1 cannot be sent/);
  assert.match(messages.get(3)!, /^ProcessPoolExecutor.map\(\): argument 1 cannot be sent/);
  for (const [, e] of failed) assert.ok(e instanceof TypeError);
});

test("jobs: an unsent batch of tasks that all clone fails them all with the send's error", () => {
  const a = job(1, [1]);
  const b = job(2, [], { kind: "rows", rows: [[1], [2]], first: 0 });
  const error = new Error("the channel is closed");
  const { failed, again } = triageUnsent([a, b], error, WHAT);
  assert.deepEqual(again, []);
  assert.deepEqual(failed, [[a, error], [b, error]]);
});
