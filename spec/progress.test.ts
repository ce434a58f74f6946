/**
 * Task progress: `progress(value)` inside a task, `future.onProgress(cb)` in the caller, and
 * `map(..., { onProgress })` counting items done. Reports reach the future of the task that made
 * them (also when tasks travel in batches or chunks), in order, before it settles and never
 * after; a failed, stopped or killed task's reports stop with it; outside a pool task the call
 * throws; a throwing callback breaks nothing; and the example CLI draws its bar to 100 %.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  BrokenProcessPool,
  CancelledError,
  type Future,
  getContext,
  ProcessError,
  progress,
} from "../mod.ts";
import { WorkerPool } from "../src/pool/worker_pool.ts";
import {
  busyReports,
  doubleOrFail,
  progressInProcess,
  reportForever,
  reportItem,
  reportLate,
  reportThenDie,
  reportThenFail,
  reportUnsendable,
  steps,
  stepsAsync,
} from "./fixtures/progress_targets.ts";
import { METHODS, nodeLoaderArgs, RUNTIME, scriptCommand } from "./helpers.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects a future's reports. */
function reports<R>(f: Future<R>): unknown[] {
  const seen: unknown[] = [];
  f.onProgress((v) => seen.push(v));
  return seen;
}

test("progress() outside a pool task throws ProcessError, naming the process", () => {
  assert.throws(() => progress(1), (e: Error) => {
    assert.ok(e instanceof ProcessError, String(e));
    assert.match(e.message, /'MainProcess' runs no pool task/);
    assert.match(e.message, /submit\(\), run\(\) or map\(\)/);
    return true;
  });
});

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`submit(): reports arrive in order, all before the result [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const f = pool.submit(steps, "a", 200);
    const seen = reports(f);
    assert.equal(f.onProgress(() => {}), f, "onProgress returns the future");
    assert.equal(await f, "a");
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => ["a", i + 1]));
    const g = pool.submit(stepsAsync, 5, 20);
    const slow = reports(g);
    assert.equal(await g, 5);
    assert.deepEqual(slow, [1, 2, 3, 4, 5]);
    // Values cross by structured clone.
    const h = pool.submit(steps, "m", 1);
    const callbacks: string[] = [];
    h.onProgress(() => callbacks.push("first")).onProgress(() => callbacks.push("second"));
    await h;
    assert.deepEqual(callbacks, ["first", "second"], "callbacks in the order registered");
  });

  test(`run(): reports reach onProgress, under a timeout and a signal [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const controller = new AbortController();
    const f = pool.run(stepsAsync, [4, 10], { timeout: 30_000, signal: controller.signal });
    const seen = reports(f);
    assert.equal(await f, 4);
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  test(`reports from a busy task arrive while it runs, not with its result [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await pool.submit(steps, "warm", 1);
    const t0 = performance.now();
    const at: number[] = [];
    const f = pool.submit(busyReports, 800, 8).onProgress(() => at.push(performance.now() - t0));
    await f;
    const end = performance.now() - t0;
    assert.equal(at.length, 8);
    assert.ok(
      at[0] < end - 300,
      `first report at ${at[0].toFixed(0)} ms, done at ${end.toFixed(0)}`,
    );
  });

  test(`tasks sent in batches: each future hears only its own task [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    // Short tasks: after the first results the pool sends many at once to each worker.
    for (let round = 0; round < 3; round++) {
      const futures = Array.from({ length: 300 }, (_, i) => pool.submit(steps, `t${i}`, 3));
      const seen = futures.map(reports);
      await Promise.all(futures);
      for (const [i, s] of seen.entries()) {
        assert.deepEqual(s, [[`t${i}`, 1], [`t${i}`, 2], [`t${i}`, 3]], `task ${i}`);
      }
    }
  });

  test(`a chunk's reports go to that chunk's future [${method}]`, async () => {
    const pool = new WorkerPool({
      method,
      maxWorkers: 2,
      what: "spec",
      workerName: "SpecWorker",
    });
    const futures = Array.from({ length: 12 }, (_, c) => {
      const rows = Array.from({ length: 25 }, (_, k) => [c * 25 + k]);
      return pool.submit(reportItem, [], { kind: "rows", rows, first: c * 25 });
    });
    const seen = futures.map(reports);
    await Promise.all(futures);
    for (const [c, s] of seen.entries()) {
      assert.deepEqual(s, Array.from({ length: 25 }, (_, k) => c * 25 + k), `chunk ${c}`);
    }
    pool.close();
    await pool.joinWorkers();
  });

  test(`map(): onProgress counts items done up to N, with and without chunks [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const counts: number[] = [];
    const ys: number[] = [];
    const options = { chunksize: 37, onProgress: (done: number) => counts.push(done) };
    for await (const y of pool.map(reportItem, xs, options)) ys.push(y);
    assert.deepEqual(ys, xs.map((x) => 2 * x));
    assert.equal(counts.at(-1), 1000);
    assert.equal(counts.length, Math.ceil(1000 / 37), "one call per chunk");
    assert.ok(counts.every((n, i) => i === 0 || n > counts[i - 1]), "increasing");
    // Whole chunks (the last, of 1000 % 37 items, may finish before others).
    assert.ok(counts.every((n) => n % 37 === 0 || n % 37 === 1000 % 37), "whole chunks");
    // One item per task: 1, 2, ... 20; also counted when nobody reads the results yet.
    const ones: number[] = [];
    const it = pool.map(reportItem, xs.slice(0, 20), { onProgress: (d: number) => ones.push(d) });
    while (ones.length < 20) await pause(10);
    assert.deepEqual(ones, Array.from({ length: 20 }, (_, i) => i + 1));
    let n = 0;
    for await (const _ of it) n++;
    assert.equal(n, 20);
    // Failed items count as done.
    const withErrors: number[] = [];
    const items = pool.map(doubleOrFail, [1, 2, 3, 4], [3, 3, 3, 3], {
      onProgress: (d: number) => withErrors.push(d),
    });
    await assert.rejects(async () => {
      for await (const _ of items) { /* up to the error */ }
    }, RangeError);
    assert.deepEqual(withErrors.slice(0, 3), [1, 2, 3], "the failed item counted as done");
    assert.throws(
      () => pool.map(reportItem, xs, { onProgress: 5 as unknown as () => void }),
      /onProgress must be a function/,
    );
  });

  test(`a failed task: its reports came first, none after [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = pool.submit(reportThenFail, 5);
    const seen = reports(f);
    await assert.rejects(f.result(), /failed after reporting/);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    const late: unknown[] = [];
    f.onProgress((v) => late.push(v));
    assert.equal(await pool.submit(steps, "next", 2), "next");
    assert.deepEqual(late, [], "a settled future hears nothing");
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  test(`cancel({ force: true }) mid-reports: CancelledError, no report after, the pool goes on [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = pool.submit(reportForever, 10);
    const seen = reports(f);
    while (seen.length < 3) await pause(5);
    assert.equal(f.cancel({ force: true }), true);
    await assert.rejects(f.result(), CancelledError);
    const count = seen.length;
    await pause(200);
    assert.equal(seen.length, count, "nothing after the future was cancelled");
    assert.deepEqual(seen, Array.from({ length: count }, (_, i) => i + 1));
    const g = pool.submit(stepsAsync, 2, 5);
    const next = reports(g);
    assert.equal(await g, 2);
    assert.deepEqual(next, [1, 2], "the next task hears only its own");
  });

  test(`a worker killed mid-reports: BrokenProcessPool, no report after [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = pool.submit(reportThenDie, 4, 20, method);
    const seen = reports(f);
    await assert.rejects(f.result(), (e: Error) => {
      assert.ok(e instanceof BrokenProcessPool, String(e));
      assert.match(e.message, method === "thread" ? /exit code 1/ : /signal 9/);
      return true;
    });
    const count = seen.length;
    assert.deepEqual(seen, [1, 2, 3, 4].slice(0, count), "a prefix of what it reported");
    assert.ok(count >= 3, `heard ${count} of 4 before it died`);
    await pause(200);
    assert.equal(seen.length, count, "nothing after it was broken");
    const g = pool.submit(steps, "after", 2);
    const next = reports(g);
    assert.equal(await g, "after");
    assert.deepEqual(next, [["after", 1], ["after", 2]]);
  });

  test(`a report from a timer after its task ended is dropped while the worker idles [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = pool.submit(reportLate, 50);
    const seen = reports(f);
    assert.equal(await f, "returned");
    await pause(300); // the timer fires in the idle worker
    const g = pool.submit(stepsAsync, 2, 5);
    const next = reports(g);
    assert.equal(await g, 2);
    assert.deepEqual(seen, ["early"]);
    assert.deepEqual(next, [1, 2]);
  });

  test(`progress() of a value that cannot cross fails the task with TypeError [${method}]`, async () => {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await assert.rejects(pool.submit(reportUnsendable).result(), (e: Error) => {
      assert.equal(e.name, "TypeError");
      assert.match(e.message, /progress\(\): the value cannot be sent to the parent/);
      return true;
    });
    await assert.rejects(
      pool.submit(reportUnsendable, new ctx.Value("i", 1)).result(),
      (e: Error) => {
        assert.equal(e.name, "TypeError");
        assert.match(e.message, /a shared Value cannot be reported/);
        return true;
      },
    );
  });

  test(`progress() in a plain Process child throws ProcessError [${method}]`, async () => {
    const result = new ctx.Value("i", 0);
    const p = new ctx.Process({ target: progressInProcess, args: [result] });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(result.value, 1, "1: ProcessError naming the misuse");
  });

  test(`a throwing callback is an uncaught error; the others, the task and the pool go on [${method}]`, () => {
    const [cmd, args] = scriptCommand("progress_throw.ts", [method]);
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), {
      result: "t",
      seen: [["t", 1], ["t", 2], ["t", 3]],
      counts: [1, 2],
      doubled: ["a", "b"],
      after: "after",
      uncaught: [
        "callback failed",
        "callback failed",
        "callback failed",
        "map callback failed at 1",
        "map callback failed at 2",
      ],
    });
  });

  test(`examples/progress_bar.ts draws its bar up to 100 % [${method}]`, () => {
    const example = fileURLToPath(new URL("../examples/progress_bar.ts", import.meta.url));
    const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
    const r = spawnSync(
      process.execPath,
      [...pre, example, "--items", "40", "--size", "20000", "--jobs", "2", "--method", method],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const bars = lines.slice(0, -1);
    assert.ok(bars.length >= 2, r.stdout);
    for (const line of bars) assert.match(line, /^\[[#-]{30}\] +\d+% {2}\d+\/40 {2}[\d.]+ s$/);
    assert.match(bars.at(-1)!, /^\[#{30}\] 100% {2}40\/40 /);
    const percents = bars.map((l) => Number(/(\d+)%/.exec(l)![1]));
    assert.ok(percents.every((p, i) => i === 0 || p > percents[i - 1]), r.stdout);
    assert.match(
      lines.at(-1)!,
      new RegExp(`^63951 primes below 800000, 40 tasks on 2 "${method}" workers in `),
    );
  });
}
