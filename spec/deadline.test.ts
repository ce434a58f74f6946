/**
 * The timeout rules as a unit (src/core/deadline.ts), and the calls that follow them: undefined, null
 * and Infinity wait without limit; a negative timeout is 0; NaN and non-numbers throw, naming
 * the call, the value and the remedy.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getContext } from "../mod.ts";
import {
  checkDuration,
  checkTimeout,
  Deadline,
  deadlineOf,
  remaining,
} from "../src/core/deadline.ts";
import { Empty, TimeoutError } from "../src/core/errors.ts";
import { sleep, withTimeout } from "../src/core/sleep.ts";
import { Future } from "../src/futures/future.ts";
import { asCompleted, wait } from "../src/futures/wait.ts";

const REMEDY = "timeout must be a number of milliseconds >= 0 or undefined";

test("checkTimeout(): undefined, null and Infinity are no timeout", () => {
  assert.equal(checkTimeout("f()", undefined), undefined);
  assert.equal(checkTimeout("f()", null), undefined);
  assert.equal(checkTimeout("f()", Infinity), undefined);
});

test("checkTimeout(): a number >= 0 stays; a negative one (-Infinity too) is 0", () => {
  assert.equal(checkTimeout("f()", 0), 0);
  assert.equal(checkTimeout("f()", 1.5), 1.5);
  assert.equal(checkTimeout("f()", 2 ** 40), 2 ** 40);
  assert.equal(checkTimeout("f()", -5), 0);
  assert.ok(Object.is(checkTimeout("f()", -0), 0), "-0 is 0");
  assert.equal(checkTimeout("f()", -Infinity), 0);
});

test("checkTimeout(): NaN is a RangeError naming the call, the value and the remedy", () => {
  assert.throws(
    () => checkTimeout("Future.result()", NaN),
    (e: Error) => e instanceof RangeError && e.message === `Future.result(): ${REMEDY}, got NaN`,
  );
});

test("checkTimeout(): a non-number is a TypeError naming the call, the value and its type", () => {
  const cases: [unknown, string][] = [
    ["100", `"100" (a string)`],
    [100n, "100n (a bigint)"],
    [true, "true (a boolean)"],
    [Symbol("ms"), "Symbol(ms) (a symbol)"],
    [{ ms: 5 }, "an object"],
    [Object.create(null), "an object"],
    [[5], "an array"],
    [() => 5, "a function"],
  ];
  for (const [value, shown] of cases) {
    assert.throws(
      () => checkTimeout("Lock.acquire()", value),
      (e: Error) =>
        e instanceof TypeError && e.message === `Lock.acquire(): ${REMEDY}, got ${shown}`,
      shown,
    );
  }
});

test("checkDuration(): a number is required; negative is 0, Infinity stays", () => {
  assert.equal(checkDuration("sleep()", "ms", 5), 5);
  assert.equal(checkDuration("sleep()", "ms", -5), 0);
  assert.equal(checkDuration("sleep()", "ms", Infinity), Infinity);
  assert.throws(
    () => checkDuration("sleep()", "ms", undefined),
    (e: Error) =>
      e instanceof TypeError
      && e.message === "sleep(): ms must be a number of milliseconds >= 0, got undefined",
  );
  assert.throws(() => checkDuration("sleep()", "ms", NaN), RangeError);
});

test("deadlineOf() and remaining(): an instant on the performance clock, undefined for none", () => {
  assert.equal(deadlineOf("f()", undefined), undefined);
  assert.equal(deadlineOf("f()", Infinity), undefined);
  assert.equal(remaining(undefined), undefined);
  const before = performance.now();
  const at = deadlineOf("f()", 1000)!;
  assert.ok(at >= before + 1000 && at <= performance.now() + 1000);
  const left = remaining(at)!;
  assert.ok(left > 0 && left <= 1000);
  assert.equal(remaining(deadlineOf("f()", -10)), 0);
  assert.throws(() => deadlineOf("Event.wait()", NaN), /^RangeError: Event\.wait\(\): timeout/);
});

test("Deadline: none never expires; remaining() is Infinity", () => {
  for (const timeout of [undefined, null, Infinity]) {
    const d = new Deadline("f()", timeout);
    assert.equal(d.timeout, undefined);
    assert.equal(d.at, undefined);
    assert.equal(d.remaining(), Infinity);
    assert.equal(d.expired(), false);
  }
});

test("Deadline: remaining() decreases to 0, then expired() holds", async () => {
  const d = new Deadline("f()", 50);
  assert.equal(d.what, "f()");
  assert.equal(d.timeout, 50);
  const first = d.remaining();
  assert.ok(first > 0 && first <= 50);
  assert.equal(d.expired(), false);
  await new Promise((r) => setTimeout(r, 20));
  const second = d.remaining();
  assert.ok(second < first, `${second} < ${first}`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(d.remaining(), 0);
  assert.equal(d.expired(), true);
});

test("Deadline: a negative timeout has expired at once; NaN throws", () => {
  const d = new Deadline("f()", -1);
  assert.equal(d.timeout, 0);
  assert.equal(d.expired(), true);
  assert.throws(() => new Deadline("Barrier.wait()", NaN), /Barrier\.wait\(\): timeout/);
});

test("Deadline.within(): true when the promise settles first (rejected too)", async () => {
  assert.equal(await new Deadline("f()", 1000).within(Promise.resolve(1)), true);
  assert.equal(await new Deadline("f()", 1000).within(Promise.reject(new Error("x"))), true);
  assert.equal(await new Deadline("f()", undefined).within(Promise.resolve(1)), true);
  const later = new Promise((r) => setTimeout(r, 20));
  assert.equal(await new Deadline("f()", 5000).within(later), true);
});

test("Deadline.within(): a timeout of 0 polls: a settled promise wins", async () => {
  assert.equal(await new Deadline("f()", 0).within(Promise.resolve()), true);
  assert.equal(await new Deadline("f()", -5).within(Promise.resolve()), true);
  assert.equal(await new Deadline("f()", 0).within(new Promise(() => {})), false);
});

test("Deadline.within(): false once the deadline passes, never early", async () => {
  const d = new Deadline("f()", 60);
  const t0 = performance.now();
  assert.equal(await d.within(new Promise(() => {})), false);
  const ms = performance.now() - t0;
  assert.ok(ms >= 59, `returned after ${ms} ms`);
  assert.equal(d.expired(), true);
});

test("sleep(): negative is 0; NaN and non-numbers throw naming sleep()", async () => {
  await sleep(-10);
  await sleep(0);
  assert.throws(() => sleep(NaN), /^RangeError: sleep\(\): ms must be/);
  assert.throws(() => sleep("5" as unknown as number), /^TypeError: sleep\(\): .*"5" \(a string\)/);
});

test("withTimeout(): undefined after the timeout, the value before; NaN throws", async () => {
  assert.equal(await withTimeout(new Promise(() => {}), 10, "f()"), undefined);
  assert.equal(await withTimeout(Promise.resolve(7), 0, "f()"), 7);
  assert.equal(await withTimeout(Promise.resolve(7), undefined, "f()"), 7);
  await assert.rejects(withTimeout(Promise.reject(new Error("boom")), 1000, "f()"), /boom/);
  assert.throws(() => withTimeout(Promise.resolve(7), NaN, "Process.join()"), /Process\.join\(\)/);
});

test("Future.result(): the rules (NaN rejects; negative is 0; Infinity waits)", async () => {
  const pending = new Future<number>();
  await assert.rejects(
    pending.result(NaN),
    (e: Error) => e instanceof RangeError && e.message === `Future.result(): ${REMEDY}, got NaN`,
  );
  await assert.rejects(pending.exception("1" as unknown as number), /Future\.exception\(\)/);
  await assert.rejects(pending.result(-1), TimeoutError);
  await assert.rejects(pending.result(0), /within 0 ms/);
  const forever = pending.result(Infinity);
  setTimeout(() => pending._setResult(42), 10);
  assert.equal(await forever, 42);
  assert.equal(await pending.result(0), 42, "a settled future needs no time");
});

test("asCompleted() and wait(): the same rules", async () => {
  const pending = new Future<number>();
  assert.throws(() => asCompleted([pending], NaN), /^RangeError: asCompleted\(\): timeout/);
  await assert.rejects(wait([pending], { timeout: NaN }), /^RangeError: wait\(\): timeout/);
  const { notDone } = await wait([pending], { timeout: -1 });
  assert.equal(notDone.size, 1);
  const it = asCompleted([pending], -1);
  await assert.rejects(it.next(), /1 \(of 1\) futures unfinished after 0 ms/);
  pending._setResult(1);
  const { done } = await wait([pending], { timeout: Infinity });
  assert.equal(done.size, 1);
});

test("the shared-memory waits follow the same rules, naming their call", async () => {
  const ctx = getContext("thread");
  const lock = new ctx.Lock();
  assert.throws(
    () => lock.acquire({ timeout: NaN }),
    (e: Error) => e instanceof RangeError && e.message === `Lock.acquire(): ${REMEDY}, got NaN`,
    "checked even when the lock is free",
  );
  assert.equal(lock.locked(), false);
  assert.equal(lock.acquire({ timeout: Infinity }), true);
  assert.equal(lock.acquire({ timeout: -1 }), false, "a negative timeout is 0");
  await assert.rejects(lock.acquireAsync({ timeout: "1" as unknown as number }), TypeError);
  lock.release();
  const event = new ctx.Event();
  assert.equal(await event.wait(-1), false);
  assert.equal(event.waitSync(-1), false);
  await assert.rejects(event.wait(NaN), /^RangeError: Event\.wait\(\): timeout/);
  const q = new ctx.Queue();
  assert.throws(() => q.get({ timeout: NaN }), /^RangeError: Queue\.get\(\): timeout/);
  assert.throws(() => q.get({ timeout: -1 }), Empty);
  const [a, b] = ctx.Pipe();
  assert.throws(() => a.poll(NaN), /^RangeError: Connection\.poll\(\): timeout/);
  assert.equal(a.poll(-1), false);
  a.close();
  b.close();
  q.close();
});
