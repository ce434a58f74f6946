/**
 * Batches of tasks and of results as they cross by field (src/pool/batch_wire.ts), where a
 * channel walks every array it is sent (Bun's child processes): which batches go by field, and
 * that every task and result comes back as it was. (Through real pools: pool.test.ts, "a long
 * batch".)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  jobsToWire,
  pushJobsFromWire,
  resultsFromWire,
  resultsToWire,
} from "../src/pool/batch_wire.ts";
import { JOB_FIELDS, JOB_ONE, RESULT_FIELDS } from "../src/pool/protocol.ts";

/**
 * `n` tasks (flat: id, function id, args, flags), their args from `argsOf(i)`: a call of one
 * primitive as the pool sends it, the argument itself (`JOB_ONE`), every third such call.
 */
function jobs(n: number, argsOf: (i: number) => unknown[]): unknown[] {
  const flat: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const args = argsOf(i);
    const flags = i % 5 === 0 ? 2 : 0;
    const one = i % 3 === 0 && args.length === 1 && Object(args[0]) !== args[0];
    flat.push(1000 + i, i % 3, one ? args[0] : args, one ? flags | JOB_ONE : flags);
  }
  return flat;
}

/** The tasks of `flat` after crossing a structured clone by field. */
function crossed(flat: unknown[]): unknown[] {
  const queue: unknown[] = ["already queued"];
  pushJobsFromWire(structuredClone(jobsToWire(flat)), queue);
  assert.equal(queue.shift(), "already queued");
  return queue;
}

test("batch wire: a long batch of tasks crosses by field and back, whatever their arguments", () => {
  const special = [-0, NaN, Infinity, 2 ** 53 + 2, 0.1 + 0.2, 2 ** 31];
  const cases: [string, (i: number) => unknown[]][] = [
    ["integers", (i) => [i]],
    ["numbers", (i) => [special[i % special.length]]],
    ["strings", (i) => [`s${i} \ud800 é`]],
    ["records", (i) => [{ x: i, name: `n${i}` }]],
    ["no arguments, or several", (i) => Array.from({ length: i % 4 }, (_, k) => k * i)],
    ["mixed", (i) => [i % 2 ? "odd" : i, undefined, null, [i], new Map([[i, 1n]])]],
  ];
  for (const [what, argsOf] of cases) {
    const flat = jobs(40, argsOf);
    const wire = jobsToWire(flat);
    assert.ok(!Array.isArray(wire), `${what}: by field`);
    const back = crossed(flat);
    assert.equal(back.length, flat.length, what);
    for (let i = 0; i < flat.length; i += JOB_FIELDS) {
      assert.ok(Object.is(back[i], flat[i]) && back[i + 1] === flat[i + 1], `${what}: task ${i}`);
      if ((flat[i + 3] as number) & JOB_ONE) {
        assert.ok(Object.is(back[i + 2], flat[i + 2]), `${what}: the one argument of task ${i}`);
        continue;
      }
      assert.deepEqual(back[i + 2], flat[i + 2], `${what}: arguments of task ${i}`);
      (flat[i + 2] as unknown[]).forEach((a, k) =>
        typeof a === "number" && assert.ok(Object.is((back[i + 2] as unknown[])[k], a))
      );
      assert.equal(back[i + 3], flat[i + 3], `${what}: flags of task ${i}`);
    }
  }
  const ones = crossed(jobs(40, (i) => [i])).filter((x, i) =>
    i % JOB_FIELDS === 3 && (x as number) & JOB_ONE
  );
  assert.equal(ones.length, 14, "calls of one primitive crossed as the argument itself");
  const ints = jobsToWire(jobs(40, (i) => [i])) as { args: object };
  assert.ok("i32" in ints.args, "integer arguments as the bytes of an Int32Array");
});

test("batch wire: a short batch crosses as it is", () => {
  const flat = jobs(31, (i) => [i]);
  assert.equal(jobsToWire(flat), flat);
  const results = Array.from({ length: 31 * RESULT_FIELDS }, (_, i) => i);
  assert.equal(resultsToWire(results), results);
  assert.equal(resultsFromWire(results), results);
});

test("batch wire: a long batch of results crosses by field and back, errors among values", () => {
  const error = { name: "ValueError", message: "bad", stack: "ValueError: bad" };
  const flat: unknown[] = [];
  for (let i = 0; i < 50; i++) flat.push(7 + i, i === 9 ? 0 : 1, i === 9 ? error : i * 2);
  const numbers: unknown[] = [];
  for (let i = 0; i < 50; i++) numbers.push(i, 1, i % 7 === 0 ? -0 : i / 2);
  for (const results of [flat, numbers]) {
    const wire = resultsToWire(results);
    assert.ok(!Array.isArray(wire));
    const back = Array.from(resultsFromWire(structuredClone(wire)));
    assert.equal(back.length, results.length);
    results.forEach((x, i) =>
      assert.ok(
        typeof x === "object" ? assert.deepEqual(back[i], x) ?? true : Object.is(back[i], x),
        `item ${i}: ${String(back[i])} for ${String(x)}`,
      )
    );
  }
  assert.ok("f64" in (resultsToWire(numbers) as { values: object }).values);
});
