/**
 * Stopping one task: `run(fn, args, { signal, timeout })`, `cancel({ force: true })` and the
 * `taskTimeout` option. A stopped running task's worker is killed and replaced, the pool goes on,
 * and a queued task stopped never runs.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { CancelledError, getContext, TimeoutError } from "../mod.ts";
import { countRun, spin, twice, waitForever, whoRuns, wokeUp } from "./fixtures/pool_targets.ts";
import { METHODS, RUNTIME } from "./helpers.ts";

/** Whether process `pid` still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const method of METHODS) {
  const ctx = getContext(method);
  // Deno cannot stop a worker thread in a busy loop (runtime-facts.md; denoland/deno#35657):
  // there, the endless task waits instead, and only a process child is killed mid-computation.
  const endless = RUNTIME === "deno" && method === "thread" ? waitForever : spin;

  test(`run(): a timeout stops an endless task, kills its worker, and the pool goes on [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const before = await pool.submit(whoRuns);
    const t0 = performance.now();
    const f = pool.run(endless, [], { timeout: 300 });
    await assert.rejects(f.result(), (e: Error) => {
      assert.ok(e instanceof TimeoutError, String(e));
      assert.match(e.message, /timeout of 300 ms/);
      return true;
    });
    assert.ok(performance.now() - t0 < 5000, "stopped well within its time");
    assert.equal(f.cancelled(), false);
    const after = await pool.submit(whoRuns);
    assert.notDeepEqual([after.pid, after.ident], [before.pid, before.ident], "a new worker");
    if (method === "process") {
      const deadline = Date.now() + 5000;
      while (alive(before.pid!) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(alive(before.pid!), false, "the killed worker is gone");
    }
    assert.equal(await pool.submit(twice, 21), 42);
  });

  test(`run(): aborting the signal stops a running task (CancelledError) [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const controller = new AbortController();
    const f = pool.run(endless, [], { signal: controller.signal });
    while (!f.running()) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    await assert.rejects(f.result(), CancelledError);
    assert.equal(f.cancelled(), true);
    assert.equal(await pool.submit(twice, 2), 4);
  });

  test(`run(): a queued task whose signal aborts never runs; an aborted signal fails at once [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const runs = new ctx.Value("i", 0);
    const busy = pool.submit(wokeUp, 0, 300);
    const controller = new AbortController();
    const queued = pool.run(countRun, [{ runs }, 1], { signal: controller.signal });
    controller.abort(new Error("not needed"));
    await assert.rejects(queued.result(), (e: Error) => {
      assert.ok(e instanceof CancelledError);
      assert.equal((e.cause as Error).message, "not needed");
      assert.equal(e.message, "the task was cancelled: its signal was aborted (not needed)");
      return true;
    });
    await busy;
    assert.equal(await pool.run(countRun, [{ runs }, 7]), 7);
    assert.equal(runs.value, 1, "only the task not stopped ran");
    const late = pool.run(twice, [1], { signal: AbortSignal.abort() });
    assert.equal(late.cancelled(), true);
    await assert.rejects(late.result(), CancelledError);
  });

  test(`cancel({ force: true }) stops a running task; plain cancel() keeps Python's meaning [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = pool.submit(endless);
    while (!f.running()) await new Promise((r) => setTimeout(r, 5));
    assert.equal(f.cancel(), false, "a running task is not cancelled without force");
    assert.equal(f.cancel({ force: true }), true);
    assert.equal(f.cancelled(), true);
    await assert.rejects(f.result(), CancelledError);
    assert.equal(await pool.submit(twice, 5), 10);
  });

  test(`taskTimeout bounds every task, submit and map alike [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 2, taskTimeout: 300 });
    await assert.rejects(pool.submit(endless).result(), TimeoutError);
    const out: number[] = [];
    for await (const y of pool.map(twice, [1, 2, 3], { chunksize: 2 })) out.push(y);
    assert.deepEqual(out, [2, 4, 6]);
    await assert.rejects(async () => {
      for await (const _ of pool.map(endless, [1, 2])) void _;
    }, TimeoutError);
  });
  test(`a task's time limit runs from its start: its worker's load of the function is not counted [${method}]`, async () => {
    const { twiceSlowly } = await import("./fixtures/slow_load_targets.ts");
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1, taskTimeout: 300 });
    await pool.submit(twice, 1); // the worker is up: what follows is the module's load alone
    const t0 = performance.now();
    assert.equal(await pool.run(twiceSlowly, [21], { timeout: 300 }), 42);
    assert.ok(performance.now() - t0 >= 1400, "the module's load took its 1.5 s");
    const out: number[] = [];
    for await (const y of pool.map(twiceSlowly, [1, 2, 3], { chunksize: 2 })) out.push(y);
    assert.deepEqual(out, [2, 4, 6]);
  });
}

test(
  "run(): a module that never finishes loading in the worker fails its timed task (TimeoutError, after the load bound)",
  { timeout: 30_000 },
  async () => {
    const { twiceNever } = await import("./fixtures/hung_load_targets.ts");
    await using pool = new (getContext("process").ProcessPoolExecutor)({ maxWorkers: 1 });
    const before = await pool.submit(whoRuns);
    const t0 = performance.now();
    await assert.rejects(pool.run(twiceNever, [1], { timeout: 200 }).result(), (e: Error) => {
      assert.ok(e instanceof TimeoutError, String(e));
      assert.match(e.message, /did not start within 5000 ms/);
      return true;
    });
    const took = performance.now() - t0;
    assert.ok(took >= 4900 && took < 8000, `stopped after the load bound (${took} ms)`);
    const deadline = Date.now() + 5000;
    while (alive(before.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(before.pid!), false, "the stuck worker was killed");
    assert.equal(await pool.submit(twice, 4), 8, "the pool goes on");
  },
);

test("run(): bad input gets errors that say what to pass", () => {
  const pool = new (getContext("thread").ProcessPoolExecutor)({ maxWorkers: 1 });
  try {
    // @ts-expect-error: args must be an array
    assert.throws(() => pool.run(twice, 3), /args must be an array of arguments, got 3$/);
    assert.throws(
      // @ts-expect-error: timeout must be a number
      () => pool.run(twice, [1], { timeout: "1s" }),
      /run\(\): timeout must be a number of milliseconds >= 0 or undefined, got "1s"/,
    );
    // @ts-expect-error: signal must be an AbortSignal
    assert.throws(() => pool.run(twice, [1], { signal: {} }), /signal must be an AbortSignal/);
    assert.throws(
      // @ts-expect-error: taskTimeout must be a number
      () => new (getContext("thread").ProcessPoolExecutor)({ taskTimeout: "1s" }),
      /ProcessPoolExecutor: taskTimeout: timeout must be a number of milliseconds/,
    );
  } finally {
    void pool.shutdown();
  }
});

test("cancel({ force: true }) of a task sent in a batch stops it alone: the others complete", async () => {
  await using pool = new (getContext("process").ProcessPoolExecutor)({ maxWorkers: 1 });
  // Short tasks travel in batches: these go to the one worker together.
  await Promise.all(Array.from({ length: 50 }, (_, i) => pool.submit(twice, i)));
  const fs = Array.from({ length: 20 }, (_, i) => pool.submit(wokeUp, i, 20));
  while (!fs[0].running()) await new Promise((r) => setTimeout(r, 1));
  assert.equal(fs[0].cancel({ force: true }), true);
  await assert.rejects(fs[0].result(), CancelledError);
  const rest = await Promise.all(fs.slice(1).map((f) => f.result()));
  assert.deepEqual(rest, fs.slice(1).map((_, i) => `${i + 1}--Woke Up`));
});

for (const method of METHODS) {
  const ctx = getContext(method);
  const endless = RUNTIME === "deno" && method === "thread" ? waitForever : spin;

  test(`Pool.applyAsync: a signal stops a running task, a timeout too; the pool goes on [${method}]`, async () => {
    await using pool = new ctx.Pool({ processes: 1 });
    const controller = new AbortController();
    const r = pool.applyAsync(endless, [], { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    await assert.rejects(r.get(10_000), CancelledError);
    assert.equal(r.successful(), false);
    await assert.rejects(pool.apply(endless, [], { timeout: 200 }), TimeoutError);
    assert.equal(await pool.apply(twice, [21]), 42);
  });

  test(`Pool.map: a signal cancels what remains of the call [${method}]`, async () => {
    await using pool = new ctx.Pool({ processes: 1 });
    const runs = new ctx.Value("i", 0);
    const controller = new AbortController();
    const items = [1, 2, 3, 4, 5, 6].map((x) => ({ runs, x }));
    const all = pool.starmap(
      countRun,
      items.map((i) => [{ runs: i.runs }, i.x] as [{ runs: typeof runs }, number]),
      { chunksize: 1, signal: controller.signal },
    );
    controller.abort();
    await assert.rejects(all, CancelledError);
    assert.ok(runs.value < 6, `the rest was dropped (${runs.value} ran)`);
    const busy = pool.map(endless, [1, 2], { signal: AbortSignal.timeout(300) });
    await assert.rejects(busy, CancelledError);
    assert.deepEqual(await pool.map(twice, [1, 2, 3], { chunksize: 2 }), [2, 4, 6]);
    const out: number[] = [];
    for await (const y of pool.imap(twice, [4, 5], { signal: new AbortController().signal })) {
      out.push(y);
    }
    assert.deepEqual(out, [8, 10]);
  });
}
