/**
 * Every lock kind between the parent and children of one context: blocking, timed,
 * non-blocking and async forms, misuse errors, wake-ups from a child, barriers of processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { BrokenBarrierError, getContext, type Lock, RLock } from "../mod.ts";
import {
  atBarrier,
  awaitFlag,
  holdLock,
  notifyLater,
  releaseForeign,
  releaseLater,
  setLater,
  waitEvent,
} from "./fixtures/shared_targets.ts";
import { eventually, METHODS, readJson, RUNTIME, tempDir } from "./helpers.ts";

/** Resolves with the milliseconds `f` took. */
async function timed<T>(f: () => T | Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

for (const method of METHODS) {
  const ctx = getContext(method);

  for (const kind of ["Lock", "RLock", "Semaphore"] as const) {
    test(`${kind}: held by a child, the parent's forms wait, time out or fail at once [${method}]`, async () => {
      const lock = new ctx[kind]();
      const held = new ctx.Event();
      const p = new ctx.Process({ target: holdLock, args: [lock, held, 600] });
      p.start();
      assert.equal(await held.wait(10_000), true);
      assert.equal(lock.acquire({ blocking: false }), false, "non-blocking fails at once");
      const [timedOut, ms] = await timed(() => lock.acquire({ timeout: 150 }));
      assert.equal(timedOut, false);
      assert.ok(ms >= 140, `a 150 ms timeout returned after ${ms} ms`);
      const [asyncTimedOut, ams] = await timed(() => lock.acquireAsync({ timeout: 100 }));
      assert.equal(asyncTimedOut, false);
      assert.ok(ams >= 90, `a 100 ms async timeout returned after ${ams} ms`);
      assert.equal(await lock.acquireAsync(), true, "taken once the child releases");
      lock.release();
      assert.equal(lock.acquire({ timeout: 5000 }), true);
      lock.release();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.throws(() => lock.acquire({ blocking: false, timeout: 1 }), /needs blocking: true/);
    });
  }

  test(`Lock: releasing an unheld lock throws; hold() releases at block end [${method}]`, () => {
    const lock = new ctx.Lock();
    assert.throws(() => lock.release(), /not held; acquire\(\) it first/);
    {
      using _ = lock.hold();
      assert.equal(lock.locked(), true);
      assert.equal(lock.acquire({ blocking: false }), false, "a Lock is not re-entrant");
    }
    assert.equal(lock.locked(), false);
  });

  test(`RLock: re-entrant for its owner; another process cannot release it [${method}]`, async () => {
    const lock = new ctx.RLock();
    assert.throws(() => lock.release(), /not held/);
    assert.equal(lock.acquire(), true);
    assert.equal(lock.acquire({ blocking: false }), true, "the owner re-enters");
    lock.release();
    assert.equal(lock.locked(), true, "still held once");
    const out = join(tempDir(), "release.json");
    const p = new ctx.Process({ target: releaseForeign, args: [lock, out] });
    await p.start();
    await p.join();
    assert.match(readJson<string>(out), /held by another process or thread .* only its owner/);
    lock.release();
    assert.equal(lock.locked(), false);
  });

  test(`Semaphore: a child's releases wake the parent; getValue; bounded over-release throws [${method}]`, async () => {
    const sem = new ctx.Semaphore(0);
    assert.equal(sem.getValue(), 0);
    assert.equal(sem.acquire({ blocking: false }), false);
    const p = new ctx.Process({ target: releaseLater, args: [sem, 2, 100] });
    p.start();
    const [ok, ms] = await timed(() => sem.acquireAsync({ timeout: 10_000 }));
    assert.equal(ok, true);
    assert.ok(ms >= 50, `acquired after ${ms} ms, before the child released`);
    assert.equal(sem.acquire({ timeout: 10_000 }), true, "the second release");
    await p.join();
    assert.equal(sem.getValue(), 0);
    const bounded = new ctx.BoundedSemaphore(2);
    bounded.acquire();
    bounded.release();
    assert.throws(() => bounded.release(), /released too many times/);
    assert.equal(bounded.getValue(), 2);
    // CPython: ValueError 'released too many times' at SEM_VALUE_MAX; not a wrap to a negative.
    const full = new ctx.Semaphore(0x7fffffff);
    assert.throws(() => full.release(), RangeError);
    assert.equal(full.getValue(), 0x7fffffff);
    assert.equal(full.acquire({ blocking: false }), true);
    assert.throws(() => new ctx.Semaphore(-1), /integer >= 0/);
    assert.throws(
      () => new ctx.Semaphore("3" as never),
      (e: Error) =>
        e instanceof TypeError
        && e.message === "Semaphore(value): the initial value must be an integer >= 0 "
            + "(new Semaphore(3)), got \"3\" (a string)",
    );
  });

  test(`Event: a child's set() wakes the parent; timeouts honoured; waitSync [${method}]`, async () => {
    const event = new ctx.Event();
    const [timedOut, ms] = await timed(() => event.wait(200));
    assert.equal(timedOut, false);
    assert.ok(ms >= 190, `wait(200) returned after ${ms} ms`);
    const [syncTimedOut, sms] = await timed(() => event.waitSync(100));
    assert.equal(syncTimedOut, false);
    assert.ok(sms >= 90);
    const p = new ctx.Process({ target: setLater, args: [event, 100] });
    p.start();
    assert.equal(await event.wait(10_000), true);
    assert.equal(event.isSet(), true);
    assert.equal(event.waitSync(0), true);
    event.clear();
    assert.equal(event.isSet(), false);
    await p.join();
  });

  test(`Event: the parent's set() wakes a waiting child [${method}]`, async () => {
    const event = new ctx.Event();
    const out = join(tempDir(), "event.json");
    const p = new ctx.Process({ target: waitEvent, args: [event, out] });
    await p.start();
    await new Promise((r) => setTimeout(r, 150));
    event.set();
    await p.join();
    const { ok, ms } = readJson<{ ok: boolean; ms: number }>(out);
    assert.equal(ok, true);
    assert.ok(ms < 9_000);
  });

  test(`Event: set() then clear() at once wakes the waiters with false, as CPython's [${method}]`, async () => {
    const event = new ctx.Event();
    const here = event.wait(10_000);
    event.set();
    event.clear();
    assert.equal(await here, false);
    const out = join(tempDir(), "pulse.json");
    const p = new ctx.Process({ target: waitEvent, args: [event, out] });
    await p.start();
    await new Promise((r) => setTimeout(r, 150));
    event.set();
    event.clear();
    await p.join();
    const { ok, ms } = readJson<{ ok: boolean; ms: number }>(out);
    assert.equal(ok, false);
    assert.ok(ms < 9_000, `the waiter slept on for ${ms} ms`);
    // A waiter that comes after the pulse waits for the next set().
    const [late, lateMs] = await timed(() => event.wait(100));
    assert.equal(late, false);
    assert.ok(lateMs >= 90);
  });

  test(`Condition: a child's notifyAll() wakes the parent's waitFor [${method}]`, async () => {
    const cond = new ctx.Condition();
    const flag = new ctx.RawValue("i", 0);
    const p = new ctx.Process({ target: notifyLater, args: [cond, flag, 100] });
    p.start();
    await cond.acquireAsync();
    const [ok, ms] = await timed(() => cond.waitFor(() => flag.value === 1, 10_000));
    cond.release();
    assert.equal(ok, true);
    assert.ok(ms >= 50, `woke after ${ms} ms, before the child notified`);
    await p.join();
  });

  test(`Condition: several children waiting are all woken by notifyAll() [${method}]`, async () => {
    const cond = new ctx.Condition(new ctx.Lock());
    const flag = new ctx.RawValue("i", 0);
    const done = new ctx.Value("i", 0);
    const children = [0, 1, 2].map(() =>
      new ctx.Process({ target: awaitFlag, args: [cond, flag, done] })
    );
    await Promise.all(children.map((p) => p.start()));
    await new Promise((r) => setTimeout(r, 200));
    await cond.acquireAsync();
    flag.value = 1;
    cond.notifyAll();
    cond.release();
    for (const p of children) await p.join();
    assert.deepEqual(children.map((p) => p.exitCode), [0, 0, 0]);
    assert.equal(done.value, 3);
  });

  test(`Condition: notify(1) wakes exactly one; wait() times out; misuse throws [${method}]`, async () => {
    const cond = new ctx.Condition();
    assert.throws(() => cond.notify(), /lock must be held/);
    await assert.rejects(cond.wait(10), /lock must be held/);
    const woken: number[] = [];
    const waiter = async (i: number) => {
      await cond.acquireAsync();
      if (await cond.wait(2000)) woken.push(i);
      cond.release();
    };
    // Two waiters in this thread: RLock ownership is per thread, so they use a Lock-based one.
    const c2 = new ctx.Condition(new ctx.Lock());
    const waiter2 = async (i: number) => {
      await c2.acquireAsync();
      const ok = await c2.wait(2000);
      if (ok) woken.push(i);
      c2.release();
    };
    const all = Promise.all([waiter2(1), waiter2(2)]);
    await new Promise((r) => setTimeout(r, 100));
    await c2.acquireAsync();
    c2.notify(1);
    c2.release();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(woken.length, 1, `notify(1) woke ${woken.length}`);
    await c2.acquireAsync();
    c2.notify(1);
    c2.release();
    await all;
    assert.equal(woken.length, 2);
    cond.acquire();
    const [ok, ms] = await timed(() => cond.wait(150));
    assert.equal(ok, false);
    assert.ok(ms >= 140);
    cond.release();
    void waiter;
  });

  test(`Lock: crosses a Queue and a Pipe, or is refused saying what to do [${method}]`, () => {
    const lock = new ctx.Lock();
    const q = new ctx.Queue<{ lock: Lock }>();
    const [a, b] = ctx.Pipe<Lock>();
    if (RUNTIME !== "deno" && method === "thread") {
      // Node's serializer refuses a SharedArrayBuffer, Bun's copies it (the lock would be another
      // one): said so at once, with the ways that work.
      const refusal =
        /holds a shared object .* "thread" start method, which cannot go through a Queue or Pipe on (Node|Bun).*Pass the object to the child as a Process argument/;
      assert.throws(() => q.put({ lock }), refusal);
      assert.throws(() => a.send(lock), refusal);
      return;
    }
    q.put({ lock });
    a.send(lock);
    const [viaQueue, viaPipe] = [q.get({ timeout: 5000 }).lock, b.recv()];
    assert.equal(viaQueue.acquire({ blocking: false }), true);
    assert.equal(lock.locked(), true, "the same lock");
    assert.equal(viaPipe.acquire({ blocking: false }), false);
    viaPipe.release();
    assert.equal(lock.locked(), false);
  });

  test(`Condition: over a Lock another process holds, wait() and notify() throw [${method}]`, async () => {
    const lock = new ctx.Lock();
    const cond = new ctx.Condition(lock);
    const held = new ctx.Event();
    const p = new ctx.Process({ target: holdLock, args: [lock, held, 400] });
    p.start();
    assert.equal(await held.wait(10_000), true);
    // CPython: AssertionError 'lock is not owned'; the child's lock must stay the child's.
    assert.throws(() => cond.notify(), /notify\(\): the lock must be held by this process/);
    await assert.rejects(cond.wait(50), /wait\(\): the lock must be held by this process/);
    assert.equal(lock.locked(), true, "the child still holds its lock");
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(lock.locked(), false);
  });

  test(`Condition: notify(n) counts as CPython's; NaN or a non-number throws [${method}]`, async () => {
    const cond = new ctx.Condition(new ctx.Lock());
    let woken = 0;
    const waiter = async () => {
      await cond.acquireAsync();
      if (await cond.wait(3000)) woken++;
      cond.release();
    };
    const all = Promise.all([waiter(), waiter(), waiter()]);
    await new Promise((r) => setTimeout(r, 100));
    await cond.acquireAsync();
    assert.throws(
      () => cond.notify(NaN),
      (e: Error) =>
        e instanceof RangeError
        && e.message === "Condition.notify(n): n must be a number of waiters to wake "
            + "(notify(2), or notifyAll() for all), got NaN",
    );
    assert.throws(() => cond.notify("2" as never), TypeError);
    cond.notify(-1);
    cond.notify(1.5);
    cond.release();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(woken, 2, `notify(1.5) woke ${woken}`);
    await cond.acquireAsync();
    cond.notifyAll();
    cond.release();
    await all;
    assert.equal(woken, 3);
  });

  test(`Lock, RLock and Event take no arguments: a stray one is refused [${method}]`, () => {
    assert.throws(
      () => new ctx.Lock(5 as never),
      /^TypeError: new Lock\(\) takes no arguments, got 5$/,
    );
    assert.throws(() => new ctx.RLock(true as never), /new RLock\(\) takes no arguments, got true/);
    assert.throws(() => new ctx.Event("x" as never), /new Event\(\) takes no arguments, got "x"/);
    assert.equal(new ctx.Lock().locked(), false);
  });

  test(`bad input to Barrier and Condition names the call, the value and the remedy [${method}]`, async () => {
    const refused = (f: () => unknown, kind: typeof TypeError, message: string) =>
      assert.throws(f, (e: Error) => e instanceof kind && e.message === message);
    refused(
      () => new ctx.Barrier("3" as never),
      TypeError,
      "Barrier(parties): parties must be an integer from 1 to 65535 (new Barrier(3)), got \"3\" "
        + "(a string)",
    );
    refused(
      () => new ctx.Barrier(2, { action: 5 as never }),
      TypeError,
      "Barrier: action must be a function (new Barrier(3, { action: fn })), got 5",
    );
    refused(
      () => new ctx.Condition(new ctx.Semaphore() as never),
      TypeError,
      "Condition(lock): lock must be a Lock or an RLock of the same context (or none, for a new "
        + "RLock), got a Semaphore",
    );
    // CPython's Condition(None) makes its own RLock: so does null.
    assert.ok(new ctx.Condition(null as never).lock instanceof RLock);
    const cond = new ctx.Condition();
    await cond.acquireAsync();
    await assert.rejects(
      cond.waitFor(5 as never, 10),
      (e: Error) =>
        e instanceof TypeError
        && e.message === "Condition.waitFor(predicate): predicate must be a function "
            + "(waitFor(() => ready.value === 1)), got 5",
    );
    cond.release();
  });

  test(`Barrier: three children and the parent pass together [${method}]`, async () => {
    const dir = tempDir();
    const barrier = new ctx.Barrier(4);
    assert.equal(barrier.parties, 4);
    const times = new ctx.RawArray("d", 4);
    const children = [0, 1, 2].map((i) =>
      new ctx.Process({
        target: atBarrier,
        args: [barrier, 100 * i, times, i, join(dir, `${i}.json`)],
      })
    );
    children.forEach((p) => p.start());
    assert.ok(
      await eventually(() => barrier.nWaiting === 3, 10_000),
      `${barrier.nWaiting} waiting`,
    );
    const index = await barrier.wait(10_000);
    times[3] = Date.now();
    for (const p of children) await p.join();
    assert.deepEqual(children.map((p) => p.exitCode), [0, 0, 0]);
    const indexes = [...children.map((_, i) => readJson<number>(join(dir, `${i}.json`))), index];
    assert.deepEqual(indexes.toSorted(), [0, 1, 2, 3]);
    assert.equal(index, 3, "the parent arrived last");
    const spread = Math.max(...times) - Math.min(...times);
    assert.ok(spread < 300, `passed ${spread} ms apart`);
    assert.equal(barrier.broken, false);
    assert.equal(barrier.nWaiting, 0);
  });

  test(`Barrier: timeout breaks it; abort(); reset(); action once per generation [${method}]`, async () => {
    const barrier = new ctx.Barrier(2);
    const [err, ms] = await timed(() => barrier.wait(100).catch((e) => e));
    assert.ok(err instanceof BrokenBarrierError, String(err));
    assert.ok(ms >= 90);
    assert.equal(barrier.broken, true);
    assert.equal(barrier.nWaiting, 0, "the timed-out waiter has left (CPython: n_waiting 0)");
    await assert.rejects(barrier.wait(), BrokenBarrierError);
    barrier.reset();
    assert.equal(barrier.broken, false);
    const pending = barrier.wait(5000);
    barrier.abort();
    await assert.rejects(pending, BrokenBarrierError);
    barrier.reset();
    let calls = 0;
    const withAction = new ctx.Barrier(2, { action: () => void calls++ });
    for (let round = 0; round < 3; round++) {
      assert.deepEqual((await Promise.all([withAction.wait(), withAction.wait()])).toSorted(), [
        0,
        1,
      ]);
    }
    assert.equal(calls, 3);
    const p = new ctx.Process({
      target: atBarrier,
      args: [withAction, 0, new ctx.RawArray("d", 1), 0, ""],
    });
    await assert.rejects(
      p.start(),
      /action '.*' cannot go to a child: export it and mark it with task/,
    );
    assert.throws(() => new ctx.Barrier(0), /parties must be an integer from 1 to 65535/);
  });
}
