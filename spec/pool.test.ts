/**
 * ProcessPoolExecutor, Future, asCompleted, wait and Pool under both start methods: the
 * notebook's two pool cells, and every failure path settling its futures.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import {
  ALL_COMPLETED,
  asCompleted,
  BrokenProcessPool,
  CancelledError,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  getContext,
  type ProcessPoolExecutor,
  sleep,
  TimeoutError,
  wait,
} from "../mod.ts";
import { denoWorkerRef } from "../src/runtime/popen_thread.ts";
import {
  add,
  addItem,
  addShared,
  cyclesOf,
  exitWith,
  failingInit,
  failOn,
  failOnTwo,
  hiddenRef,
  listed,
  maybeLater,
  meet,
  napOrNot,
  pair,
  recall,
  remember,
  same,
  sharedResult,
  something,
  throwKind,
  twice,
  twiceLater,
  unsendable,
  valueResult,
  whoRuns,
  wokeUp,
} from "./fixtures/pool_targets.ts";
import { inWebWorker } from "./fixtures/scripts/idle_pool.ts";
import { eventually, METHODS, patternedBytes, runScript, sameBytes } from "./helpers.ts";

/** Starts `n` workers of `executor` (awaiting a short task on each), so that timings below are
 * about tasks, not about worker start-up (slow under tsx on Node). */
async function warm(executor: ProcessPoolExecutor, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => executor.submit(wokeUp, i, 50)));
}

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`map: chunks of numbers cross as typed columns and keep every number [${method}]`, async () => {
    await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const special = [-0, NaN, Infinity, -Infinity, 2 ** 53 + 2, 5e-324, 0.1 + 0.2];
    const xs = Array.from({ length: 200 }, (_, i) => special[i % special.length] * (i + 1));
    const out: unknown[] = [];
    for await (const y of ex.map(same, xs, { chunksize: 64 })) out.push(y);
    assert.equal(out.length, xs.length);
    out.forEach((y, i) => assert.ok(Object.is(y, xs[i]), `item ${i}: ${String(y)} for ${xs[i]}`));
    // A column with one string among the numbers, and results that are not numbers.
    const mixed: unknown[] = xs.slice(0, 100);
    mixed[50] = "fifty";
    const pairs: unknown[] = [];
    for await (const p of ex.map(pair, mixed, xs.slice(0, 100), { chunksize: 100 })) pairs.push(p);
    assert.deepEqual(pairs[50], ["fifty", xs[50]]);
    assert.ok(Object.is((pairs[0] as number[])[0], xs[0]));
    assert.deepEqual(await ex.submit(same, -0).then((v) => Object.is(v, -0)), true);
    // Integers of 32 bits cross as Int32Array columns: a chunk of them at the bounds, one with a
    // -0 among them and one with 2^31 (both as numbers) come back the same.
    const ints = Array.from({ length: 192 }, (_, i) => (i % 2 ? -1 : 1) * i * 11_000_000);
    [ints[5], ints[6], ints[70], ints[130]] = [2 ** 31 - 1, -(2 ** 31), -0, 2 ** 31];
    const back: unknown[] = [];
    for await (const y of ex.map(same, ints, { chunksize: 64 })) back.push(y);
    assert.equal(back.length, ints.length);
    back.forEach((y, i) =>
      assert.ok(Object.is(y, ints[i]), `item ${i}: ${String(y)} for ${ints[i]}`)
    );
  });

  test(`map: records (objects of one shape) cross by field and come back the same [${method}]`, async () => {
    await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const fields = [-0, NaN, "s", "", true, null, undefined, 2n ** 70n, 1.5, "\ud800 é 😀"];
    const rows = Array.from({ length: 200 }, (_, i) => ({
      id: i,
      v: fields[i % fields.length],
      name: `row ${i}`,
    }));
    const back = async (items: unknown[], chunksize = 64) => {
      const out: unknown[] = [];
      for await (const y of ex.map(same, items, { chunksize })) out.push(y);
      return out;
    };
    const same200 = await back(rows);
    assert.deepEqual(same200, rows); // deepStrictEqual: -0, NaN, undefined fields kept
    same200.forEach((r, i) =>
      assert.deepEqual(Object.keys(r as object), ["id", "v", "name"], `keys of item ${i}`)
    );
    // Strings, by column: any code units (a lone surrogate too), empty ones.
    const strings = rows.map((
      r,
      i,
    ) => (i % 7 === 0 ? "" : `${r.name} \udc00 ${"é".repeat(i % 5)}`));
    assert.deepEqual(await back(strings), strings);
    const names: unknown[] = [];
    for await (
      const s of ex.map(same, rows.map((r) => ({ s: r.name, n: r.id })), { chunksize: 64 })
    ) {
      names.push((s as { s: string }).s);
    }
    assert.deepEqual(names, rows.map((r) => r.name));
    // Columns that are not one shape of primitives cross item by item, unchanged.
    class Point {
      x: number;
      constructor(x: number) {
        this.x = x;
      }
    }
    const others: unknown[][] = [
      rows.map((r, i) => (i === 100 ? { name: r.name, id: r.id, v: r.v } : r)), // key order
      rows.map((r, i) => (i === 100 ? { ...r, extra: 1 } : r)), // one key more
      rows.map((r, i) => (i === 100 ? { id: r.id, v: [r.v], name: r.name } : r)), // nested
      rows.map((r, i) => (i === 100 ? Object.assign(Object.create(null), r) : r)), // no prototype
      rows.map((r) => new Point(r.id)), // class instances: structured clone's plain objects
      rows.map((r) => ({
        get id() {
          return r.id;
        },
      })), // a getter: read when sent
      Array.from({ length: 200 }, () => ({})), // no fields
      rows.map((r) => JSON.parse(`{"__proto__": ${r.id}, "id": ${r.id}}`)), // an own __proto__
    ];
    for (const [k, items] of others.entries()) {
      assert.deepEqual(await back(items), items.map((x) => structuredClone(x)), `case ${k}`);
    }
    // A later change to a record does not reach the task (read when submitted).
    const batch = rows.slice(0, 64).map((r) => ({ ...r }));
    const it = ex.map(same, batch, { chunksize: 64 })[Symbol.asyncIterator]();
    const first = it.next();
    batch[1].name = "changed";
    assert.deepEqual((await first).value, rows[0]);
    assert.deepEqual((await it.next()).value, rows[1]);
    await it.return?.();
  });

  test(`a long batch of tasks keeps every argument and result as sent [${method}]`, async () => {
    await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    // Thousands of tiny tasks at once go in long batches (by field on Bun's child processes).
    const n = 3000;
    const special = [-0, NaN, Infinity, 2 ** 31, 0.5, "s", "\ud800 é", "", null, undefined, 1n];
    const rounds: ((i: number) => unknown)[] = [
      (i) => i,
      (i) => i / 7,
      (i) => `item ${i}`,
      (i) => ({ x: i, name: `r${i}` }),
      (i) => special[i % special.length],
    ];
    for (const [r, valueOf] of rounds.entries()) {
      const xs = Array.from({ length: n }, (_, i) => valueOf(i));
      const back = await Promise.all(xs.map((x) => ex.submit(same, x)));
      xs.forEach((x, i) =>
        assert.ok(
          typeof x === "object" && x !== null
            ? assert.deepEqual(back[i], x) ?? true
            : Object.is(back[i], x),
          `round ${r}, item ${i}: ${String(back[i])} for ${String(x)}`,
        )
      );
    }
    // None, one or two arguments, in one batch.
    const argsOf = (i: number) => [[], [i], [i, -i]][i % 3];
    const lists = await Promise.all(
      Array.from({ length: n }, (_, i) => ex.submit(listed, ...argsOf(i))),
    );
    lists.forEach((list, i) => assert.deepEqual(list, argsOf(i), `arguments of task ${i}`));
  });

  test(`map: a chunk's calls may return promises; errors, sync or not, stop at their item [${method}]`, async () => {
    await using ex = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const xs = Array.from({ length: 90 }, (_, i) => i);
    const out: number[] = [];
    for await (const y of ex.map(maybeLater, xs, xs.map(() => -1), { chunksize: 40 })) out.push(y);
    assert.deepEqual(out, xs);
    for (const bad of [57, 58]) { // a promise that rejects; a call that throws
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (const y of ex.map(maybeLater, xs, xs.map(() => bad), { chunksize: 40 })) {
          seen.push(y);
        }
      }, (e: Error) => e.name === "ValueError" && e.message === `bad value ${bad}`);
      assert.deepEqual(seen, xs.slice(0, bad));
    }
  });

  test(`notebook: submit + asCompleted yields in completion order [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 10 });
    // Start the ten workers first (ten tasks meeting at a barrier need ten workers), so that the
    // ten tasks below start together.
    const barrier = new ctx.Barrier(10);
    await Promise.all(Array.from({ length: 10 }, () => executor.submit(meet, barrier)));
    const tasks = Array.from(
      { length: 10 },
      // 100 ms apart: the order holds even while another job keeps both cores busy.
      (_, i) => executor.submit(something, i, (10 - i) * 100),
    );
    const order: string[] = [];
    for await (const task of asCompleted(tasks)) {
      assert.equal(task.done(), true);
      order.push((await task.result()).text);
    }
    assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => `${9 - i}--Woke Up`));
  });

  test(`a pool busy with quick tasks before runs a quick task beside a slow one [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    // Thousands of quick tasks: the pool has learnt to send its workers many at a time.
    const quick = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => executor.submit(twice, i)),
    );
    assert.equal(quick[1999], 3998);
    // The notebook's cell on that pool: a task of another function that is slow does not hold the
    // quick ones behind it in its worker; they run on the other worker, one after the other.
    const tasks = [[0, 1500], [1, 30], [2, 60]].map(([i, ms]) => executor.submit(something, i, ms));
    const order: string[] = [];
    for await (const task of asCompleted(tasks)) order.push((await task.result()).text);
    assert.deepEqual(order, ["1--Woke Up", "2--Woke Up", "0--Woke Up"]);
  });

  test(`a task that runs long holds no task sent after it: they go to a free worker [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    // Quick calls of the function: the pool has learnt to send its workers many at a time.
    await Promise.all(Array.from({ length: 2000 }, (_, i) => executor.submit(napOrNot, i, 0)));
    const slow = executor.submit(napOrNot, 0, 1500);
    await sleep(300); // it runs, longer than the function's calls so far
    const tasks = [slow, executor.submit(napOrNot, 1, 20), executor.submit(napOrNot, 2, 40)];
    const order: number[] = [];
    for await (const task of asCompleted(tasks)) order.push(await task.result());
    assert.deepEqual(order, [1, 2, 0]);
  });

  test(`notebook: map over two zipped iterables yields in input order [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor();
    const ids = Array.from({ length: 10 }, (_, i) => i);
    const sleepTime = ids.map((i) => (9 - i) * 20); // later items finish first: order is the input's
    const results: string[] = [];
    for await (const result of executor.map(wokeUp, ids, sleepTime)) results.push(result);
    assert.deepEqual(results, ids.map((i) => `${i}--Woke Up`));
  });

  test(`map: zips to the shortest, chunksize, errors at their item, timeout [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const sums: number[] = [];
    for await (const s of executor.map(add, [1, 2, 3, 4], new Set([10, 20, 30]))) sums.push(s);
    assert.deepEqual(sums, [11, 22, 33]);
    // Python's map(f, xs, itertools.repeat(10)): an endless iterable beside a finite one, read
    // no further than the shortest; generators beside generators stop at the first that ends.
    let read = 0;
    function* repeat(x: number) {
      for (;;) read++, yield x;
    }
    const withEndless: number[] = [];
    for await (const s of executor.map(add, [1, 2, 3], repeat(10))) withEndless.push(s);
    assert.deepEqual(withEndless, [11, 12, 13]);
    assert.equal(read, 3, "no item read past the shortest");
    function* upTo(n: number) {
      for (let i = 1; i <= n; i++) yield i;
    }
    const both: number[] = [];
    for await (const s of executor.map(add, repeat(100), upTo(2), { chunksize: 2 })) both.push(s);
    assert.deepEqual(both, [101, 102]);
    const xs = Array.from({ length: 2500 }, (_, i) => i);
    const doubled: number[] = [];
    for await (const y of executor.map(twice, xs, { chunksize: 1000 })) doubled.push(y);
    assert.deepEqual(doubled, xs.map((x) => 2 * x));
    for (const chunksize of [1, 3]) {
      const seen: number[] = [];
      await assert.rejects(async () => {
        for await (
          const y of executor.map(failOn, [0, 1, 2, 3, 4], [3, 3, 3, 3, 3], { chunksize })
        ) seen.push(y);
      }, (e: Error) => e.name === "ValueError" && e.message === "bad value 3");
      assert.deepEqual(seen, [0, 1, 2], `chunksize ${chunksize}: results before the failing item`);
    }
    await assert.rejects(async () => {
      for await (const _ of executor.map(wokeUp, [0, 1], [10, 2000], { timeout: 300 })) { /* */ }
    }, TimeoutError);
    assert.throws(
      () => executor.map(twice, [1], { chunksize: 0 }),
      /chunksize must be an integer >= 1/,
    );
    assert.throws(
      () => executor.map(twice, 5 as unknown as number[]),
      /argument 1 is not iterable/,
    );
  });

  test(`Future: result timeout, exception, done/running/cancelled, cancel, callbacks [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await warm(executor, 1);
    const slow = executor.submit(wokeUp, 0, 600);
    const queued = executor.submit(twice, 21);
    await assert.rejects(slow.result(100), TimeoutError);
    assert.ok(await eventually(() => slow.running(), 5000));
    assert.equal(slow.cancel(), false, "a running task cannot be cancelled");
    assert.equal(queued.cancel(), true, "a queued task can");
    assert.equal(queued.cancelled(), true);
    assert.equal(queued.done(), true);
    await assert.rejects(queued.result(), CancelledError);
    const calls: string[] = [];
    slow.addDoneCallback((f) => calls.push(`done ${f.done()}`));
    assert.equal(await slow, "0--Woke Up");
    assert.deepEqual(calls, ["done true"]);
    assert.equal(await slow.exception(), null);
    const failing = executor.submit(failOn, 1, 1);
    const error = await failing.exception() as Error;
    assert.equal(error.name, "ValueError");
    assert.equal(error.message, "bad value 1");
    assert.match(
      String((error.cause as Error).stack),
      /failOn|pool_targets/,
      "the cause carries the worker's stack",
    );
    // What the task's error carried comes with it: Node's code, errno, syscall and path, own
    // fields, the cause chain (after the worker's stack), an AggregateError's errors.
    const thrown = async (kind: string) => {
      const f = executor.submit(throwKind, kind);
      const viaMap = executor.map(throwKind, [kind], { chunksize: 2 })[
        Symbol.asyncIterator
      ]().next().then(() => null, (e: unknown) => e as Error);
      const [e, e2] = [await f.exception() as Error, await viaMap];
      assert.deepEqual({ ...e2 }, { ...e }, `${kind}: the same through a chunk of map`);
      return e;
    };
    const fs = await thrown("fs");
    assert.deepEqual(
      [fs.name, fs.message.startsWith("ENOENT"), (fs as NodeJS.ErrnoException).code],
      ["Error", true, "ENOENT"],
    );
    assert.equal((fs as NodeJS.ErrnoException).syscall, "open");
    assert.equal((fs as NodeJS.ErrnoException).path, "/nonexistent/multiproc-spec");
    assert.equal(typeof (fs as NodeJS.ErrnoException).errno, "number");
    const fields = await thrown("fields");
    assert.ok(fields instanceof RangeError);
    assert.deepEqual({ ...fields }, { code: 42, detail: { at: [1, 2] } });
    assert.deepEqual({ ...await thrown("unsendable field") }, { n: 1 }, "what cannot cross stays");
    const chained = await thrown("cause");
    const traceback = chained.cause as Error;
    assert.equal(traceback.name, "RemoteTraceback");
    assert.match(String(traceback.stack), /outer[^]*\[cause\]: TypeError: inner/);
    const inner = traceback.cause as Error;
    assert.ok(inner instanceof TypeError);
    assert.equal(inner.message, "inner");
    assert.match(String(inner.stack), /throwKind|pool_targets/, "the inner error's worker stack");
    assert.equal((inner.cause as Error).message, "the root", "a cause that is not an error");
    const aggregate = await thrown("aggregate") as AggregateError;
    assert.ok(aggregate instanceof AggregateError);
    assert.deepEqual(
      aggregate.errors.map((e: Error) => [e.constructor.name, e.message]),
      [["TypeError", "first"], ["RangeError", "second"]],
    );
    const object = await thrown("object");
    assert.equal(object.message, "{\"code\":7,\"msg\":\"obj\"}");
    assert.deepEqual({ ...object }, { code: 7, msg: "obj" });
    assert.equal((await thrown("string")).message, "plain text");
    let late = "";
    failing.addDoneCallback(() => (late = "called at once"));
    assert.equal(late, "called at once");
    // What console.log shows of each state.
    assert.deepEqual(
      [slow, failing, queued, executor.submit(wokeUp, 1, 100)].map(String),
      [
        "Future(finished, returned)",
        "Future(finished, raised)",
        "Future(cancelled)",
        "Future(pending)",
      ],
    );
  });

  test(`a failed future left unawaited is no unhandled rejection; awaited, it rejects [${method}]`, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
      const left = executor.submit(failOn, 1, 1);
      const awaited = executor.submit(failOn, 2, 2);
      const viaResult = executor.submit(failOn, 3, 3);
      await assert.rejects(async () => await awaited, { name: "ValueError" });
      await assert.rejects(viaResult.result(5000), { name: "ValueError" });
      await new Promise<void>((resolve) => left.addDoneCallback(() => resolve()));
      assert.equal(((await left.exception()) as Error).message, "bad value 1");
      // Awaited after it failed, too.
      await assert.rejects(async () => await left, { message: "bad value 1" });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test(`a Future is a Promise: awaited and gathered as it is; then gives plain promises [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const f = executor.submit(twice, 4);
    assert.ok(f instanceof Future && f instanceof Promise);
    assert.equal(Promise.resolve(f), f, "Promise.resolve takes it as it is");
    const derived = f.then((x) => x + 1);
    assert.ok(!(derived instanceof Future), "then gives a plain promise");
    assert.equal(await derived, 9);
    assert.deepEqual(await Promise.all([f, executor.submit(twice, 5)]), [8, 10]);
    assert.equal(await f.catch(() => 0).finally(() => {}), 8);
    assert.throws(() => Future.resolve(1), /made by executors .* use Promise\.resolve\(\)/);
  });

  test(`wait: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, timeout [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    await warm(executor, 2);
    const fast = executor.submit(wokeUp, 0, 10);
    const slow = executor.submit(wokeUp, 1, 800);
    const first = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
    assert.ok(first.done.has(fast));
    assert.ok(first.notDone.has(slow));
    const timedOut = await wait([slow], { timeout: 50 });
    assert.equal(timedOut.done.size, 0);
    const failing = executor.submit(failOn, 2, 2);
    const exc = await wait([slow, failing], { returnWhen: FIRST_EXCEPTION });
    assert.ok(exc.done.has(failing));
    const all = await wait([fast, slow, failing], { returnWhen: ALL_COMPLETED });
    assert.equal(all.done.size, 3);
    await assert.rejects(wait([fast], { returnWhen: "SOMETIMES" as never }), /returnWhen must be/);
  });

  test(`asCompleted: TimeoutError names the unfinished; each future once [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    await warm(executor, 2);
    const fast = executor.submit(twice, 1);
    const slow = executor.submit(wokeUp, 1, 1000);
    const seen: unknown[] = [];
    await assert.rejects(async () => {
      for await (const f of asCompleted([fast, slow, fast], 300)) seen.push(f);
    }, (e: Error) => e instanceof TimeoutError && /1 \(of 2\) futures unfinished/.test(e.message));
    assert.deepEqual(seen, [fast]);
  });

  test(`a worker that dies mid-task fails that task only; the pool goes on [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    const dying = executor.submit(exitWith, 3);
    const others = [1, 2, 3, 4].map((x) => executor.submit(twice, x));
    await assert.rejects(
      dying.result(),
      (e: Error) => e instanceof BrokenProcessPool && /exit code 3/.test(e.message),
    );
    assert.deepEqual(await Promise.all(others), [2, 4, 6, 8]);
    assert.equal(await executor.submit(twice, 5), 10, "the pool replaced the worker");
  });

  test(
    `a worker killed with SIGKILL fails its task with BrokenProcessPool; the rest go on [${method}]`,
    {
      skip: method === "thread" ? "a thread cannot be sent a signal; exit() covers it" : false,
    },
    async () => {
      await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
      const { pid } = await executor.submit(whoRuns);
      const long = executor.submit(wokeUp, 7, 5000);
      const queued = executor.submit(twice, 9);
      while (!long.running()) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      process.kill(pid, "SIGKILL");
      await assert.rejects(
        long.result(),
        (e: Error) => e instanceof BrokenProcessPool && /signal 9/.test(e.message),
      );
      assert.equal(
        await queued,
        18,
        "a task sent to the dead worker but not started runs elsewhere",
      );
    },
  );

  test(`shared objects cross to pool tasks as handles, nested too [${method}]`, async () => {
    const box = { total: new ctx.Value("i", 0) };
    {
      await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
      await Promise.all(Array.from({ length: 20 }, (_, i) => executor.submit(addShared, box, i)));
    }
    assert.equal(box.total.value, 190);
    const foreign = {
      total: new (getContext(method === "thread" ? "process" : "thread").Value)("i", 0),
    };
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await assert.rejects(
      executor.submit(addShared, foreign, 1).result(),
      /argument 0 .* start method/,
    );
  });

  test(`arguments that cannot be sent fail their own task only, however deep [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await executor.submit(twice, 1);
    // Plain data crosses without a second clone to check it; what the encoding cannot prove
    // cloneable is checked, at submit or, if only the send finds it, when the batch is sent.
    // Values the encoding sees as data but the channel's serializer may refuse go as their data,
    // or fail their task saying why (runtimes differ: Bun sends the array without its method).
    const maybe = [
      [Object.assign([1, 2], { f: () => 1 }), [1, 2]],
      [new Proxy({ x: 1 }, {}), { x: 1 }],
    ];
    const bad: unknown[] = [
      () => 1,
      { deep: [{ f: () => 1 }] },
      Symbol("s"),
      ...maybe.map(([x]) => x),
    ];
    const futures = bad.flatMap((arg) => [executor.submit(same, arg), executor.submit(twice, 3)]);
    const settled = await Promise.allSettled(futures);
    settled.forEach((r, i) => {
      if (i % 2 === 1) return assert.deepEqual(r, { status: "fulfilled", value: 6 });
      const k = i / 2;
      if (k >= 3 && r.status === "fulfilled") return assert.deepEqual(r.value, maybe[k - 3][1]);
      assert.equal(r.status, "rejected", `argument ${k} was sent`);
      const e = (r as PromiseRejectedResult).reason as Error;
      assert.ok(e instanceof TypeError, `argument ${k}: ${e}`);
      assert.match(e.message, /argument 0 cannot be sent to a child.*Pass data that structured/s);
      assert.doesNotMatch(e.message, /\.\./, "one sentence's period, not two");
      // What it refused is named (Bun's own error does not say: "The object can not be cloned").
      if (k < 3) assert.match(e.message, [/\(\) ?=> ?1/, /\(\) ?=> ?1/, /Symbol\(s\)/][k]);
    });
    // map: one item of a chunk that cannot go fails the map with that item named.
    const items: unknown[] = [{ x: 1 }, { x: 2 }, { f: () => 1 }];
    await assert.rejects(
      (async () => {
        for await (const _ of executor.map(same, items, { chunksize: 2 }));
      })(),
      /item 2, argument 0 cannot be sent to a child/,
    );
    // Plain data still arrives whole, copied at submit: a later change does not reach the task.
    const record = { a: [1, { b: "c" }], m: new Map([["k", { v: 1n }]]), s: new Set([1]) };
    const f = executor.submit(same, record);
    record.a.push(2);
    assert.deepEqual(await f, {
      a: [1, { b: "c" }],
      m: new Map([["k", { v: 1n }]]),
      s: new Set([1]),
    });
    // Cycles cross as structured clone keeps them (they overflowed the stack: a user's try),
    // also around a shared object, and data nested deeper than a cycle's guess still crosses.
    const cyclic: Record<string, unknown> = { name: "a", total: new ctx.Value("i", 7) };
    cyclic.self = cyclic;
    cyclic.list = [cyclic, new Map([["back", cyclic]])];
    assert.deepEqual(await executor.submit(cyclesOf, cyclic as never), {
      self: true,
      list: true,
      map: true,
      total: 7,
    });
    const loop: unknown[] = [1];
    loop.push(loop);
    const [again] = (await executor.submit(listed, loop)) as unknown[][];
    assert.equal(again[1], again);
    let deep: unknown = "bottom";
    for (let i = 0; i < 1000; i++) deep = i % 2 ? [deep] : { deeper: deep };
    assert.deepEqual(await executor.submit(same, deep), deep);
  });

  test(`a 32 MiB argument and result cross whole, in linear time [${method}]`, {
    timeout: 60_000,
  }, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await executor.submit(twice, 1);
    const big = patternedBytes(32 << 20);
    const t0 = performance.now();
    // Before: a Deno "process" child read it in ~20 s (each pipe chunk joined to those before).
    const back = await executor.submit(same, big).result(20_000);
    assert.ok(sameBytes(back, big), "every byte, there and back");
    assert.ok(performance.now() - t0 < 20_000);
  });

  test(`a result that cannot be sent back fails that task only [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    const bad = executor.submit(unsendable);
    const good = executor.submit(twice, 2);
    await assert.rejects(
      bad.result(),
      /cannot be sent back to the parent: [^\n]*[^.]\. Return data that structured clone accepts/,
    );
    assert.equal(await good, 4);
    // It said "[object Object] could not be cloned", naming neither the Value nor the remedy.
    await assert.rejects(
      executor.submit(sharedResult).result(),
      /^\w+: the task's result holds a SharedArray, a shared object, which cannot be sent back to the parent\. Make it in the parent and pass it to the task/,
    );
    // A Value resolved to a plain object of its fields ({ typecode, _ref, ... }), silently.
    await assert.rejects(
      executor.submit(valueResult).result(),
      /^TypeError: the task's result holds a Value, a shared object, which cannot be sent back/,
    );
  });

  test(`initializer runs in each worker; a failing one breaks the pool [${method}]`, async () => {
    {
      await using executor = new ctx.ProcessPoolExecutor({
        maxWorkers: 2,
        initializer: remember,
        initargs: ["hello"],
      });
      assert.deepEqual(await Promise.all([recall, recall, recall].map((f) => executor.submit(f))), [
        "hello",
        "hello",
        "hello",
      ]);
    }
    const executor = new ctx.ProcessPoolExecutor({ maxWorkers: 2, initializer: failingInit });
    const pending = [1, 2, 3].map((x) => executor.submit(twice, x));
    for (const f of pending) {
      await assert.rejects(
        f.result(),
        (e: Error) =>
          e instanceof BrokenProcessPool && /initializer failed.*on purpose/.test(e.message),
      );
    }
    assert.throws(() => executor.submit(twice, 1), BrokenProcessPool);
    await executor.shutdown();
  });

  test(`maxTasksPerChild: a fresh worker after each task [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1, maxTasksPerChild: 1 });
    const runs = await Promise.all([0, 1, 2].map(() => executor.submit(whoRuns)));
    const key = method === "process" ? "pid" : "ident";
    assert.equal(new Set(runs.map((r) => r[key])).size, 3, JSON.stringify(runs));
  });

  test(`bad use: maxWorkers, non-exported fn, submit after shutdown, cancelFutures [${method}]`, async () => {
    assert.throws(
      () => new ctx.ProcessPoolExecutor({ maxWorkers: 0 }),
      /maxWorkers must be an integer >= 1/,
    );
    const executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await assert.rejects(
      executor.submit(hiddenRef.hidden, 1).result(),
      /target 'hidden' is not exported from .*task\(import\.meta/,
    );
    const running = executor.submit(wokeUp, 0, 300);
    const queued = [1, 2].map((i) => executor.submit(wokeUp, i, 10));
    assert.ok(await eventually(() => running.running(), 10_000));
    await executor.shutdown({ cancelFutures: true });
    assert.equal(await running, "0--Woke Up", "a running task finishes");
    for (const f of queued) assert.equal(f.cancelled(), true);
    assert.throws(() => executor.submit(twice, 1), /after shutdown/);
  });

  test(`arguments are taken at submit: changing the array after does not change the task [${method}]`, async () => {
    await using executor = new ctx.ProcessPoolExecutor({ maxWorkers: 1 });
    await using pool = new ctx.Pool({ processes: 1 });
    // Each pool busy first, so that the tasks below wait in its queue while their arrays change.
    const busy = [executor.submit(wokeUp, 0, 200), pool.applyAsync(wokeUp, [0, 200]).get()];
    const args: [number, number] = [1, 2];
    const rows: [number, number][] = [[3, 4], [5, 6]];
    const run = executor.run(add, args);
    const applied = pool.applyAsync(add, args);
    const xs = [3, 5];
    const mapped = executor.map(add, xs, [4, 6]);
    const poolStarred = pool.starmap(add, rows);
    args[0] = 100;
    rows[0][0] = 100;
    rows[1] = [100, 100];
    xs[0] = 100;
    await Promise.all(busy);
    assert.equal(await run, 3);
    assert.equal(await applied.get(), 3);
    const collected: number[] = [];
    for await (const y of mapped) collected.push(y);
    assert.deepEqual(collected, [7, 11]);
    assert.deepEqual(await poolStarred, [7, 11]);
  });

  test(`a pool keeps the program alive while it has tasks, an idle one does not [${method}]`, async () => {
    const { code, stdout, stderr } = await runScript("idle_pool.ts", [method], 60_000);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /executor 42/);
    assert.match(stdout, /pool 8/);
    assert.match(stdout, /late task done after 300 ms/, "a task not awaited ran before the end");
  });

  test(`Pool: apply, applyAsync, map, starmap, imap, imapUnordered [${method}]`, async () => {
    await using pool = new ctx.Pool({ processes: 2 });
    assert.equal(await pool.apply(add, [2, 3]), 5);
    const r = pool.applyAsync(wokeUp, [1, 100]);
    assert.equal(r.ready(), false);
    assert.throws(() => r.successful(), /not ready/);
    await assert.rejects(r.get(10), TimeoutError);
    assert.equal(await r.get(5000), "1--Woke Up");
    assert.equal(r.ready(), true);
    assert.equal(r.successful(), true);
    const xs = Array.from({ length: 50 }, (_, i) => i);
    assert.deepEqual(await pool.map(twice, xs), xs.map((x) => 2 * x));
    assert.deepEqual(await pool.map(twice, xs, 7), xs.map((x) => 2 * x));
    assert.deepEqual(await pool.mapAsync(twice, [1, 2]).get(), [2, 4]);
    assert.deepEqual(await pool.starmap(add, [[1, 2], [3, 4]]), [3, 7]);
    assert.deepEqual(await pool.starmapAsync(add, [[5, 5]]).get(), [10]);
    const ordered: number[] = [];
    for await (const y of pool.imap(twice, xs, 4)) ordered.push(y);
    assert.deepEqual(ordered, xs.map((x) => 2 * x));
    const unordered: number[] = [];
    for await (const y of pool.imapUnordered(twice, xs, 3)) unordered.push(y);
    assert.deepEqual(unordered.toSorted((a, b) => a - b), xs.map((x) => 2 * x));
    const failed = pool.applyAsync(failOn, [4, 4]);
    await failed.wait();
    assert.equal(failed.successful(), false);
    await assert.rejects(
      pool.starmap(failOn, [[1, 2], [2, 2], [3, 2]]),
      (e: Error) => e.name === "ValueError" && e.message === "bad value 2",
    );
  });

  test(`Pool.imap and imapUnordered read an endless iterable lazily, as CPython's [${method}]`, async () => {
    // CPython's pool.imap(f, itertools.count()) yields results while its feeder reads on; a
    // reading of the whole iterable first never gave a result (and ran out of memory).
    await using pool = new ctx.Pool({ processes: 2 });
    let read = 0;
    function* count() {
      for (let i = 0;; i++) {
        read++;
        yield i;
      }
    }
    for (const chunksize of [1, 5]) {
      read = 0;
      const got: number[] = [];
      for await (const y of pool.imap(twice, count(), chunksize)) {
        got.push(y);
        if (got.length === 20) break;
      }
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => 2 * i));
      // A window of about 1024 calls ahead of the reader (2 workers).
      assert.ok(read < 2000, `imap read ${read} items for 20 results`);
      read = 0;
      const any: number[] = [];
      for await (const y of pool.imapUnordered(twice, count(), { chunksize })) {
        any.push(y);
        if (any.length === 20) break;
      }
      assert.equal(new Set(any).size, 20);
      assert.ok(any.every((y) => y % 2 === 0));
      assert.ok(read < 2000, `imapUnordered read ${read} items for 20 results`);
    }
    // The first tasks go at once (CPython's feeder starts with the call), before any next().
    const early = pool.imap(twiceLater, [7], 1);
    await new Promise((res) => setTimeout(res, 400));
    const t = performance.now();
    assert.deepEqual((await early.next()).value, 14);
    assert.ok(performance.now() - t < 250, "imap's first task ran before the first next()");
    // An iterable that throws: the items before it, in order, then its error.
    function* breaks() {
      yield* [1, 2, 3];
      throw new RangeError("input broke");
    }
    for (const chunksize of [1, 2]) {
      const before: number[] = [];
      await assert.rejects(async () => {
        for await (const y of pool.imap(twice, breaks(), chunksize)) before.push(y);
      }, /input broke/);
      assert.deepEqual(before, [2, 4, 6]);
      const any: number[] = [];
      await assert.rejects(async () => {
        for await (const y of pool.imapUnordered(twice, breaks(), chunksize)) any.push(y);
      }, /input broke/);
      assert.deepEqual(any.toSorted(), [2, 4, 6]);
    }
    // A failing call ends the results at its place; the pool goes on.
    const upTo: number[] = [];
    await assert.rejects(async () => {
      for await (const y of pool.imap(failOnTwo, [1, 2, 3], 2)) upTo.push(y);
    }, /bad value 2/);
    assert.deepEqual(upTo, [1]);
    assert.equal(await pool.apply(twice, [21]), 42);
    // close() then join() before the results are read, as CPython allows: join() waits for
    // every task of the imaps (their iterables read to the end), then the results are there.
    const later = new ctx.Pool({ processes: 2 });
    const n = 5000;
    const total = new ctx.Value("i", 0);
    const inOrder = later.imap(addItem, Array.from({ length: n }, (_, i) => ({ total, n: i })));
    const anyOrder = later.imapUnordered(twice, count(), { chunksize: 10 });
    const first = await anyOrder.next();
    assert.equal(first.done, false);
    await anyOrder.return(undefined); // the endless one stopped: close() must not read it on
    later.close();
    await later.join();
    assert.equal(total.value, n * (n - 1) / 2, "join() returned before every imap task ran");
    let sum = 0;
    for await (const y of inOrder) sum += y;
    assert.equal(sum, n * (n - 1) / 2);
    // terminate() ends an imap's reading: its results fail, no task is submitted after.
    const ended = new ctx.Pool({ processes: 2 });
    read = 0;
    const stopped = ended.imap(twiceLater, count());
    ended.terminate();
    await assert.rejects(stopped.next(), CancelledError);
    const readThen = read;
    await ended.join();
    assert.equal(read, readThen, "terminated imap read on");
  });

  test(`Pool: close/join, terminate settles pending tasks, misuse [${method}]`, async () => {
    const pool = new ctx.Pool({ processes: 1 });
    await assert.rejects(pool.join(), /still running; call close\(\) or terminate\(\)/);
    const r = pool.applyAsync(twice, [4]);
    pool.close();
    assert.throws(() => pool.applyAsync(twice, [1]), /closed/);
    // Each call names itself (not the async form it runs on), and what to do instead.
    for (
      const [call, name] of [
        [() => pool.map(twice, [1]), "map"],
        [() => pool.starmap(twice, [[1]]), "starmap"],
        [() => pool.apply(twice, [1]), "apply"],
        [() => pool.mapAsync(twice, [1]), "mapAsync"],
      ] as const
    ) {
      assert.throws(call, (e: Error) => {
        assert.match(e.message, new RegExp(`^Pool\\.${name}\\(\\): the pool is closed`));
        assert.match(e.message, /give them to a new Pool/);
        return true;
      });
    }
    await pool.join();
    assert.equal(await r.get(), 8);
    const doomed = new ctx.Pool({ processes: 1 });
    const long = doomed.applyAsync(wokeUp, [0, 5000]);
    const queued = doomed.applyAsync(twice, [1]);
    await new Promise((res) => setTimeout(res, 300));
    doomed.terminate();
    await assert.rejects(long.get(), CancelledError);
    await assert.rejects(queued.get(), CancelledError);
    await doomed.join();
    assert.throws(() => new ctx.Pool({ processes: 0 }), /processes must be an integer >= 1/);
  });
}

test("on Deno, a thread pool's workers are Web Workers, unref'd through Deno's worker", {
  skip: process.versions.deno ? false : "Deno only",
}, async () => {
  // node:worker_threads (the fallback where Deno's Web Worker cannot be unref'd) holds the
  // parent's thread 40–80 ms per worker.
  assert.equal(typeof denoWorkerRef(), "function", "Deno's Web Worker has its ref method");
  await using ex = new (getContext("thread").ProcessPoolExecutor)({
    maxWorkers: 1,
    module: new URL("./fixtures/scripts/idle_pool.ts", import.meta.url).href,
  });
  assert.equal(await ex.submit(inWebWorker), true);
  // An idle pool lets the program end, on Web Workers and on the fallback.
  for (const [how, web] of [["", true], ["no-ref", false]] as const) {
    const { code, stdout, stderr } = await runScript("idle_pool.ts", ["thread", how], 60_000);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /executor 42/);
    assert.match(stdout, new RegExp(`web worker ${web}`));
    assert.match(stdout, /late task done after 300 ms/, "a task not awaited ran before the end");
  }
});
