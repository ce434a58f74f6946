/**
 * The executor contract, one suite run against `ProcessPoolExecutor` and `ClusterExecutor` (three
 * `multiproc worker` processes on a real redis-server): the notebook's submit + asCompleted
 * completion order and map's input order, errors, wait(), cancel before start, run's signal and
 * timeout, a crashing task, an unexported function, shutdown. The same calls, the same outcomes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ALL_COMPLETED,
  asCompleted,
  BrokenProcessPool,
  CancelledError,
  ClusterExecutor,
  FIRST_COMPLETED,
  type Future,
  ProcessPoolExecutor,
  TimeoutError,
  wait,
} from "../../mod.ts";
import { clusterFixture } from "./redis.ts";
import { crash, double, fail, failAt3, hiddenRef, something, spin } from "./targets.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LONG = { timeout: 120_000 };
/** Tasks that run at once: three workers of one task each, for both executors. */
const SLOTS = 3;

/** What the suite needs of an executor: the shared interface. */
interface Executor extends AsyncDisposable {
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>>;
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args?: A,
    options?: { signal?: AbortSignal; timeout?: number },
  ): Future<Awaited<R>>;
  map<R>(fn: (...args: never[]) => R, ...rest: unknown[]): AsyncIterable<Awaited<R>>;
  shutdown(options?: { wait?: boolean; cancelFutures?: boolean }): Promise<void>;
}

const fixture = clusterFixture("contract");

const EXECUTORS: Record<string, () => Promise<Executor>> = {
  ProcessPoolExecutor: () =>
    Promise.resolve(
      new ProcessPoolExecutor({ maxWorkers: SLOTS, context: "process" }) as unknown as Executor,
    ),
  ClusterExecutor: async () => {
    const queue = fixture.queue();
    await fixture.workers(queue, SLOTS, ROOT, ["--concurrency", "1"]);
    const connection = fixture.redis.url;
    return new ClusterExecutor({ connection, queue, root: ROOT }) as unknown as Executor;
  },
};

for (const [name, make] of Object.entries(EXECUTORS)) {
  test(`contract [${name}]: the notebook's completion order, map's input order`, LONG, async () => {
    await using ex = await make();
    // Every worker warm first, so that start-up does not shift the order.
    await Promise.all(Array.from({ length: 2 * SLOTS }, (_, i) => ex.submit(something, i, 100)));
    const tasks = [0, 1, 2].map((i) => ex.submit(something, i, (3 - i) * 400));
    const order: string[] = [];
    for await (const f of asCompleted(tasks)) order.push(await f.result());
    assert.deepEqual(order, ["2--Woke Up", "1--Woke Up", "0--Woke Up"]);
    const mapped: string[] = [];
    for await (const r of ex.map(something, [0, 1, 2], [300, 150, 10])) mapped.push(r as string);
    assert.deepEqual(mapped, ["0--Woke Up", "1--Woke Up", "2--Woke Up"]);
    const ys: number[] = [];
    const xs = Array.from({ length: 500 }, (_, i) => i);
    for await (const y of ex.map(double, xs, { chunksize: 64 })) ys.push(y as number);
    assert.deepEqual(ys, xs.map((x) => 2 * x));
  });

  test(`contract [${name}]: errors, wait(), and an error in map at its item`, LONG, async () => {
    await using ex = await make();
    const bad = ex.submit(fail, 7);
    const error = await bad.exception();
    assert.ok(error instanceof Error);
    assert.equal(error.name, "ValueError");
    assert.equal(error.message, "bad value 7");
    await assert.rejects(bad.result(), /bad value 7/);
    const slow = ex.submit(something, 1, 2000);
    const quick = ex.submit(double, 4);
    const first = await wait([slow, quick], { returnWhen: FIRST_COMPLETED });
    assert.ok(first.done.has(quick));
    assert.ok(first.notDone.has(slow));
    const all = await wait([slow, quick], { returnWhen: ALL_COMPLETED });
    assert.equal(all.done.size, 2);
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const y of ex.map(failAt3, [1, 2, 3, 4])) got.push(y as number);
    }, /bad value 3/);
    assert.deepEqual(got, [2, 4], "the items before the failing one");
  });

  test(`contract [${name}]: cancel before start, run's signal and timeout`, LONG, async () => {
    await using ex = await make();
    const busy = Array.from({ length: SLOTS }, (_, i) => ex.submit(something, i, 1500));
    await new Promise((r) => setTimeout(r, 500));
    const queued = ex.submit(double, 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(queued.cancel(), true, "a task not started is cancelled");
    assert.equal(queued.cancelled(), true);
    await assert.rejects(queued.result(), CancelledError);
    await Promise.all(busy);
    const controller = new AbortController();
    const stopped = ex.run(spin, [], { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 800));
    controller.abort();
    await assert.rejects(stopped.result(), CancelledError);
    await assert.rejects(ex.run(spin, [], { timeout: 500 }).result(30_000), TimeoutError);
    assert.equal(await ex.submit(double, 21), 42, "it goes on");
  });

  test(`contract [${name}]: a crashing task, an unexported function, shutdown`, LONG, async () => {
    const ex = await make();
    await assert.rejects(ex.submit(crash).result(60_000), BrokenProcessPool);
    assert.equal(await ex.submit(double, 2), 4, "the executor goes on");
    await assert.rejects(
      Promise.resolve().then(() => ex.submit(hiddenRef.hidden, 1).result()),
      /not exported|task\(import\.meta/,
    );
    const long = Array.from({ length: 3 * SLOTS }, (_, i) => ex.submit(something, i, 300));
    await ex.shutdown({ cancelFutures: true });
    const settled = await Promise.allSettled(long);
    assert.ok(settled.every((s) => s.status === "fulfilled" || s.reason instanceof CancelledError));
    assert.ok(long.some((f) => f.cancelled()), "the queued ones were cancelled");
    assert.ok(long.every((f) => f.done()), "no future is left pending");
    assert.throws(() => ex.submit(double, 1), /shut ?down/i);
  });
}
