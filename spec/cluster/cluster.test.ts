/**
 * ClusterExecutor against a real redis-server and three `multiproc worker` processes: the
 * executor contract (the notebook's completion order and map's input order), values across
 * machines, every failure path (a task's error, a crashed child, a timeout, cancel, a worker
 * killed mid-task, Redis killed and restarted, Redis gone for good), backpressure, bad input.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  asCompleted,
  BrokenProcessPool,
  CancelledError,
  ClusterExecutor,
  cpuCount,
  sleep,
  TimeoutError,
  Value,
} from "../../mod.ts";
import { patternedBytes, RUNTIME, sameBytes, tempDir } from "../helpers.ts";
import { clusterFixture, type ClusterWorkerProcess, RedisServer } from "./redis.ts";
import {
  crash,
  double,
  echo,
  fail,
  napThenPid,
  pidOf,
  something,
  spin,
  symbol,
  zeros,
} from "./targets.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("spec");

/** Three workers on a new queue, and an executor for it. */
async function cluster(
  options: Partial<ConstructorParameters<typeof ClusterExecutor>[0]> = {},
  count = 3,
  workerFlags: string[] = [],
) {
  const queue = fixture.queue();
  const started = await fixture.workers(queue, count, ROOT, workerFlags);
  const connection = fixture.redis.url;
  const executor = new ClusterExecutor({ connection, queue, root: ROOT, ...options });
  return { executor, queue, workers: started };
}

/** One worker whose jobs' locks (30 s) outlast an outage of Redis, and an executor that waits. */
const outageCluster = () =>
  cluster({ unreachableTimeout: 30_000 }, 1, ["--lock-duration", "30000"]);

test("notebook: submit + asCompleted yields in completion order; map keeps input order", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster();
  await using _ = executor;
  // Each worker's children started first (a child's start would shift the order below).
  await Promise.all(Array.from({ length: 12 }, (_, i) => executor.submit(something, i, 200)));
  const tasks = [0, 1, 2, 3, 4, 5].map((i) => executor.submit(something, i, (6 - i) * 300));
  const order: string[] = [];
  for await (const f of asCompleted(tasks)) order.push(await f.result());
  assert.deepEqual(order, [5, 4, 3, 2, 1, 0].map((i) => `${i}--Woke Up`));
  const mapped: string[] = [];
  for await (const r of executor.map(something, [0, 1, 2], [300, 200, 100])) mapped.push(r);
  assert.deepEqual(mapped, ["0--Woke Up", "1--Woke Up", "2--Woke Up"]);
  const xs = Array.from({ length: 3000 }, (_, i) => i);
  const ys: number[] = [];
  for await (const y of executor.map(double, xs, { chunksize: 250 })) ys.push(y);
  assert.deepEqual(ys, xs.map((x) => 2 * x));
});

test("values cross machines as data: Date, Map, Set, BigInt, typed arrays, undefined, errors", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1);
  await using _ = executor;
  const cause = new RangeError("inner");
  const error = new TypeError("outer", { cause });
  const value = {
    date: new Date(86_400_000),
    map: new Map<unknown, unknown>([[1, "one"], ["k", { deep: [1, 2] }]]),
    set: new Set([1, "two", 3n]),
    big: 2n ** 70n,
    floats: new Float64Array([1.5, -2.25]),
    bytes: new Uint8Array([0, 255]),
    missing: undefined,
    list: [1, undefined, "x"],
    nested: { a: { b: { c: [new Date(0)] } } },
    error,
  };
  const back = await executor.submit(echo, value) as typeof value;
  assert.deepEqual({ ...back, error: undefined }, { ...value, error: undefined });
  assert.ok("missing" in back);
  assert.ok(back.floats instanceof Float64Array && back.bytes instanceof Uint8Array);
  assert.ok(back.error instanceof TypeError);
  assert.equal(back.error.message, "outer");
  assert.equal(back.error.stack, error.stack);
  assert.ok(back.error.cause instanceof RangeError);
  assert.equal((back.error.cause as Error).message, "inner");
});

test("a runtime's built-ins and the library's own functions run as tasks (Python's math.sqrt)", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1);
  await using _ = executor;
  const roots: number[] = [];
  for await (const y of executor.map(Math.sqrt, [16, 25, 36], { chunksize: 2 })) roots.push(y);
  assert.deepEqual(roots, [4, 5, 6]);
  assert.equal(await executor.submit(Math.max, 3, 9, 4), 9);
  assert.equal(await executor.submit(sleep, 5), undefined);
  assert.ok(await executor.submit(cpuCount) >= 1);
});

test("a task's error rejects its future with its name, message and remote stack, once", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await cluster({}, 1);
  await using _ = executor;
  const e = await executor.submit(fail, 7).exception() as Error;
  assert.equal(e.name, "ValueError");
  assert.equal(e.message, "bad value 7");
  assert.match(e.stack ?? "", /spec\/cluster\/targets\.ts/, "the remote stack");
  assert.ok(e.cause instanceof RangeError, "its cause");
  assert.equal((e.cause as Error).message, "out of range");
  assert.equal(w.lines.all.filter((l) => / started: /.test(l)).length, 1, "not retried");
});

test("arguments or a result over maxTaskBytes fail their task alone, saying what to do", {
  timeout: 90_000,
}, async () => {
  const limit = 1 << 20;
  const { executor, workers: [w] } = await cluster({ maxTaskBytes: limit }, 1);
  await using _ = executor;
  const started = (re: RegExp) => w.lines.all.filter((l) => / started: /.test(l) && re.test(l));
  // Submitted together, as one batch for Redis: the large one fails before it, alone.
  const before = executor.submit(double, 1);
  const large = executor.submit(echo, new Uint8Array(1.5 * limit).fill(7));
  const after = executor.submit(double, 2);
  const e = await large.exception() as Error;
  assert.ok(e instanceof RangeError, String(e));
  assert.match(
    e.message,
    /^ClusterExecutor\.submit\(\): the arguments of echo \(spec\/cluster\/targets\.ts\) take 1\.5 MiB encoded, more than maxTaskBytes \(1\.0 MiB\): put large data where every worker can read it .+; or raise maxTaskBytes \(at most 512 MiB\)\.$/,
  );
  assert.deepEqual([await before.result(), await after.result()], [2, 4]);
  // Under the limit: there and back, whole.
  const fits = new Uint8Array(limit / 2).fill(9);
  assert.deepEqual(await executor.submit(echo, fits), fits);
  // Logs name an anonymous task() by its export.
  const echoes = started(/ started: echo \(spec\/cluster\/targets\.ts\)$/).length;
  assert.equal(echoes, 1, w.lines.all.join("\n"));
  // A result over it: its task fails in the worker, once (not retried); the worker goes on.
  const r = await executor.submit(zeros, 1.5 * limit).exception() as Error;
  assert.ok(r instanceof RangeError, String(r));
  assert.match(
    r.message,
    /^the result of 'zeros' takes 1\.5 MiB encoded, more than maxTaskBytes \(1\.0 MiB\): write large results where the client can read them .+; or raise the client's maxTaskBytes \(at most 512 MiB\)\.$/,
  );
  assert.equal(started(/ started: zeros /).length, 1, "run once");
  assert.equal((await executor.submit(zeros, 10)).length, 10);
  // A result that cannot be encoded at all: a TypeError naming the task by its export.
  const t = await executor.submit(symbol).exception() as Error;
  assert.equal(t.name, "TypeError", String(t));
  assert.match(t.message, /^the result of 'symbol' cannot be sent back: .+\. Return data \(/);
  await assert.rejects(
    async () => {
      for await (const _ of executor.map(symbol, [1, 2], { chunksize: 2 })) { /* none */ }
    },
    (x: Error) =>
      x.name === "TypeError"
      && /^the results of a chunk of 2 calls of 'symbol' cannot be sent back: /.test(x.message),
  );
  // In chunks of map: the chunk over it fails the map, saying so.
  const halves = [new Uint8Array(0.75 * limit), new Uint8Array(0.75 * limit)];
  await assert.rejects(
    async () => {
      for await (const _ of executor.map(echo, halves, { chunksize: 2 })) { /* none */ }
    },
    (x: Error) =>
      x instanceof RangeError
      && /^ClusterExecutor\.map\(\): the arguments of a chunk of 2 calls of echo \(spec\/cluster\/targets\.ts\) take 1\.5 MiB encoded.+, or use a smaller chunksize; or raise maxTaskBytes/
        .test(x.message),
  );
  await assert.rejects(
    async () => {
      for await (
        const _ of executor.map(zeros, [0.75 * limit, 0.75 * limit], { chunksize: 2 })
      ) { /* none */ }
    },
    (x: Error) =>
      x instanceof RangeError
      && /^the results of a chunk of 2 calls of 'zeros' take 1\.5 MiB encoded.+, or use a smaller chunksize; or raise the client's maxTaskBytes/
        .test(x.message),
  );
  const small: number[] = [];
  for await (const y of executor.map(double, [1, 2, 3], { chunksize: 2 })) small.push(y);
  assert.deepEqual(small, [2, 4, 6]);
  // The option itself: a whole number of bytes up to Redis's limit for one value.
  for (const maxTaskBytes of [0, 1.5, 2 ** 29 + 1, "1MB"]) {
    assert.throws(
      () =>
        new ClusterExecutor({
          connection: fixture.redis.url,
          queue: "q",
          root: ROOT,
          maxTaskBytes: maxTaskBytes as number,
        }),
      /ClusterExecutor: maxTaskBytes must be a whole number of bytes from 1 to 536870912 \(512 MiB, Redis's limit for one value\), got .+; for larger data, put it where every worker can read it/,
    );
  }
});

test("large arguments and results go in keys of their own, deleted once used", {
  timeout: 90_000,
}, async () => {
  const { executor, queue } = await cluster({}, 1);
  await using _ = executor;
  const keys = async (q: string) => await fixture.redis.command("KEYS", `multiproc:${q}:*`);
  // MessagePack bytes (a typed array), JSON text (plain numbers), and a chunk of map: each over
  // the 1 MiB above which a value goes in a key of its own.
  const bytes = patternedBytes(3 << 20);
  assert.ok(sameBytes(await executor.submit(echo, bytes), bytes), "bytes there and back");
  const numbers = Array.from({ length: 300_000 }, (_, i) => i * 1.5);
  assert.deepEqual(await executor.submit(echo, numbers), numbers);
  const parts = [patternedBytes(700_000), patternedBytes(800_000)];
  const mapped: unknown[] = [];
  for await (const y of executor.map(echo, parts, { chunksize: 2 })) mapped.push(y);
  assert.ok(mapped.every((y, i) => sameBytes(y, parts[i])), "a chunk there and back");
  // No key left behind, and BullMQ's events name the keys instead of holding the values.
  let left: unknown;
  for (let i = 0; i < 50 && (left = await keys(queue), (left as string[]).length > 0); i++) {
    await sleep(20);
  }
  assert.deepEqual(left, []);
  const events = await fixture.redis.command(
    "XREVRANGE",
    `bull:${queue}:events`,
    "+",
    "-",
    "COUNT",
    "100",
  ) as [string, string[]][];
  const longest = Math.max(...events.map(([, fields]) => fields.join("").length));
  assert.ok(longest < 10_000, `an event of ${longest} characters`);

  // Arguments gone from Redis before a worker took them: that task fails, saying so.
  const orphan = fixture.queue();
  await using waiting = new ClusterExecutor({
    connection: fixture.redis.url,
    queue: orphan,
    root: ROOT,
  });
  const f = waiting.submit(echo, bytes);
  let made: string[] = [];
  for (let i = 0; i < 250 && (made = await keys(orphan) as string[]).length === 0; i++) {
    await sleep(20);
  }
  assert.equal(made.length, 1, "its arguments' key");
  await fixture.redis.command("DEL", made[0]);
  await fixture.workers(orphan, 1, ROOT);
  const e = await f.exception(30_000) as Error;
  assert.match(
    e.message,
    /^its arguments are no longer in Redis \(multiproc:.+:args:.+: kept 7 days, unless Redis lost its data\): submit the task again\.$/,
  );
});

test("an anonymous task() submitted while its module evaluates: named by its mark, not waited on", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await cluster({}, 1);
  await using _ = executor;
  // Its module waits for the task; naming it by its export would wait for its module.
  const t0 = performance.now();
  (globalThis as { specCluster?: ClusterExecutor }).specCluster = executor;
  try {
    const { answer } = await import("./tla_targets.ts");
    assert.equal(answer, 42);
  } finally {
    delete (globalThis as { specCluster?: ClusterExecutor }).specCluster;
  }
  assert.ok(performance.now() - t0 < 20_000);
  assert.ok(
    w.lines.all.some((l) => / started: task #0 \(spec\/cluster\/tla_targets\.ts\)$/.test(l)),
    w.lines.all.join("\n"),
  );
});

test("Redis out of memory: the jobs refused fail every pending task, saying what to do", {
  timeout: 90_000,
}, async () => {
  const redis = await RedisServer.start();
  try {
    // Full from the start: what BullMQ loads (its scripts) already takes more than this.
    await redis.command("CONFIG", "SET", "maxmemory", "100kb");
    const queue = fixture.queue();
    await using executor = new ClusterExecutor({ connection: redis.url, queue, root: ROOT });
    const futures = [1, 2, 3].map((x) => executor.submit(double, x));
    for (const f of futures) {
      const e = await f.exception(30_000);
      assert.ok(e instanceof BrokenProcessPool, String(e));
      assert.match(
        e.message,
        /^ClusterExecutor: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the jobs sent to it \(OOM command not allowed .*\); every pending task failed: Redis is out of memory: raise its maxmemory, or keep less there \(fewer jobs waiting: maxWaiting; smaller arguments and results: maxTaskBytes\), then make a new executor\.$/,
      );
    }
    assert.throws(() => executor.submit(double, 4), BrokenProcessPool);
  } finally {
    await redis.kill();
  }
});

test("a task that crashes its child fails with BrokenProcessPool; the worker goes on", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1);
  await using _ = executor;
  await assert.rejects(executor.submit(crash).result(), BrokenProcessPool);
  assert.equal(await executor.submit(double, 4), 8);
});

test("run(): a timed-out endless loop has its child killed and fails with TimeoutError", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await cluster({}, 1);
  await using _ = executor;
  const t0 = performance.now();
  await assert.rejects(executor.run(spin, [], { timeout: 500 }).result(), TimeoutError);
  assert.ok(performance.now() - t0 < 10_000);
  assert.equal(await executor.submit(double, 5), 10, "the worker goes on");
  // The worker's two children: the spinning one was killed (the worker is not busy).
  assert.ok(w.lines.all.some((l) => /failed: TimeoutError/.test(l)));
  const stats = readFileSync(`/proc/${w.child.pid}/task/${w.child.pid}/children`, "utf8");
  for (const pid of stats.trim().split(/\s+/).filter(Boolean)) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [utime, stime] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 13).map(
      Number,
    );
    assert.ok(utime + stime < 300, `child ${pid} is not spinning (${utime + stime} ticks)`);
  }
});

test(
  "cancel() removes a job not yet started; a signal stops a running one",
  { timeout: 90_000 },
  async () => {
    const { executor, workers: [w] } = await cluster({}, 1);
    await using _ = executor;
    // Two run at once on the one worker: the third waits in Redis.
    const busy = [executor.submit(something, 0, 1500), executor.submit(something, 1, 1500)];
    await new Promise((r) => setTimeout(r, 500));
    const waiting = executor.submit(something, 2, 10);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(waiting.cancel(), true);
    assert.equal(waiting.cancelled(), true);
    await Promise.all(busy);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      w.lines.all.filter((l) => / started: /.test(l)).length,
      2,
      "the cancelled never ran",
    );
    const controller = new AbortController();
    const running = executor.run(spin, [], { signal: controller.signal });
    await w.lines.wait(/ started: /, 10_000, "worker").then(() =>
      new Promise((r) => setTimeout(r, 300))
    );
    controller.abort();
    await assert.rejects(running.result(), CancelledError);
    await w.lines.wait(/failed: CancelledError/, 10_000, "the worker stops the task");
    assert.equal(await executor.submit(double, 6), 12);
  },
);

test("a worker killed mid-task: its job completes on another", { timeout: 90_000 }, async () => {
  const { executor, workers: ws } = await cluster({}, 2);
  await using _ = executor;
  const f = executor.submit(napThenPid, 3000);
  const deadline = Date.now() + 10_000;
  let victim: ClusterWorkerProcess | undefined;
  while (!victim && Date.now() < deadline) {
    victim = ws.find((w) => w.lines.all.some((l) => / started: /.test(l)));
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(victim, "a worker took the job");
  await victim.kill();
  const survivor = ws.find((w) => w !== victim)!;
  assert.equal(typeof (await f.result(30_000)), "number");
  assert.ok(survivor.lines.all.some((l) => / finished /.test(l)), "the other worker ran it");
});

test("a job stopped while no worker ran it is stopped where it is redelivered, not run", {
  timeout: 90_000,
}, async () => {
  const { executor, queue, workers: [victim] } = await cluster({}, 1);
  await using _ = executor;
  const controller = new AbortController();
  const f = executor.run(spin, [], { signal: controller.signal });
  await victim.lines.wait(/ started: /, 10_000, "worker");
  await victim.kill();
  controller.abort(); // no worker hears it: the stop's key says so
  await assert.rejects(f.result(), CancelledError);
  // A worker started now never heard the message; the job comes to it once its lock expires.
  const [late] = await fixture.workers(queue, 1, ROOT);
  await late.lines.wait(/ started: /, 20_000, "the job redelivered");
  // At once: not at the next look at every running job's key (every 2 s).
  await late.lines.wait(/failed: CancelledError/, 500, "the late worker stops it at its start");
  assert.equal(await executor.submit(double, 3), 6, "and goes on");
});

test("Redis killed and restarted: pending tasks complete; gone past the limit: BrokenProcessPool", {
  timeout: 90_000,
}, async () => {
  // Locks that outlast the outage: the running job is not taken for a dead worker's.
  const { executor } = await cluster({ unreachableTimeout: 4000 }, 1, ["--lock-duration", "15000"]);
  await using _ = executor;
  assert.equal(await executor.submit(double, 1), 2);
  const f = executor.submit(something, 9, 2500);
  await new Promise((r) => setTimeout(r, 500));
  await fixture.redis.kill();
  await new Promise((r) => setTimeout(r, 1000));
  await fixture.redis.restart();
  assert.equal(await f.result(30_000), "9--Woke Up");
  const g = executor.submit(something, 10, 5000);
  await new Promise((r) => setTimeout(r, 300));
  await fixture.redis.kill();
  await assert.rejects(g.result(20_000), (e: Error) => {
    assert.ok(e instanceof BrokenProcessPool, String(e));
    assert.match(e.message, /unreachable for 4000 ms/);
    return true;
  });
  assert.throws(() => executor.submit(double, 1), BrokenProcessPool);
  await fixture.redis.restart();
});

test("a stop asked while Redis is away reaches the running task once it is back", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await outageCluster();
  await using _ = executor;
  const controller = new AbortController();
  const f = executor.run(spin, [], { signal: controller.signal });
  await w.lines.wait(/ started: /, 10_000, "worker");
  await fixture.redis.kill();
  controller.abort(); // its message cannot reach the worker now
  await assert.rejects(f.result(), CancelledError);
  await new Promise((r) => setTimeout(r, 500));
  await fixture.redis.restart();
  await w.lines.wait(
    /failed: CancelledError/,
    20_000,
    "the worker stops the task once Redis is back",
  );
  assert.equal(await executor.submit(double, 4), 8, "the worker goes on");
});

test("SIGTERM while Redis is away: the running job finishes, then the worker ends without Redis", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await outageCluster();
  await using _ = executor;
  const f = executor.submit(something, 7, 1500);
  try {
    await w.lines.wait(/ started: /, 10_000, "worker");
    await fixture.redis.kill();
    const t0 = performance.now();
    const stopped = await Promise.race([
      w.stop().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 15_000)),
    ]);
    if (!stopped) await w.kill();
    const log = w.lines.all.join("\n");
    assert.ok(stopped, `the worker ended after SIGTERM:\n${log}`);
    const took = performance.now() - t0;
    assert.ok(took < 1500 + 5000, `it ended ${took.toFixed(0)} ms after SIGTERM`);
    assert.match(log, / finished in /, `the running job finished:\n${log}`);
    assert.match(log, /unreachable: closing without it/);
  } finally {
    await fixture.redis.restart();
    f.cancel({ force: true }); // no worker is left to run it again
  }
});

test("shutdown() while Redis is away, with no task pending, ends at once", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1);
  assert.equal(await executor.submit(double, 3), 6);
  await fixture.redis.kill();
  try {
    const t0 = performance.now();
    const ended = await Promise.race([
      executor.shutdown().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert.ok(ended, "shutdown() ended");
    assert.ok(performance.now() - t0 < 5000, "at once");
  } finally {
    await fixture.redis.restart();
  }
});

test("--processes: fewer children than jobs at once; the jobs wait for a free child", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1, ["--concurrency", "3", "--processes", "1"]);
  await using _ = executor;
  const pids = await Promise.all([0, 1, 2].map(() => executor.submit(napThenPid, 100)));
  assert.equal(new Set(pids).size, 1, "one child ran all three");
});

test("quick jobs stay on one child, beside as many as cores; slow jobs get a child each", {
  timeout: 90_000,
}, async () => {
  const { executor, workers: [w] } = await cluster({}, 1, ["--concurrency", "4"]);
  await using _ = executor;
  const cores = availableParallelism();
  // The worker's pool children: not the helper that unlinks named segments after it (a `sh`).
  const poolChild = (pid: string) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("multiproc-watcher");
    } catch {
      return false; // ended meanwhile
    }
  };
  const children = () =>
    readFileSync(`/proc/${w.child.pid}/task/${w.child.pid}/children`, "utf8").trim().split(/\s+/)
      .filter((pid) => pid && poolChild(pid)).length;
  const xs = Array.from({ length: 200 }, (_, i) => i);
  const ys = await Promise.all(xs.map((x) => executor.submit(double, x)));
  assert.deepEqual(ys, xs.map((x) => 2 * x));
  // Without the limit, 4 jobs at once start 4 children (besides the one for quick jobs).
  if (cores < 4) assert.ok(children() <= cores + 1, `${children()} children on ${cores} cores`);
  // Once timed as quick (its first job runs alone), a function's jobs all go to that one child.
  await executor.submit(pidOf);
  const quick = await Promise.all(Array.from({ length: 50 }, () => executor.submit(pidOf)));
  assert.equal(new Set(quick).size, 1, `quick jobs ran on ${new Set(quick).size} children`);
  // 4 children ran them: the last ones started before the first two were done (else a child
  // that was done would have taken one).
  const pids = await Promise.all([0, 1, 2, 3].map(() => executor.submit(napThenPid, 2500)));
  assert.equal(new Set(pids).size, 4, "4 slow jobs, 4 children");
});

test("a worker on another runtime runs the client's task() functions", {
  timeout: 90_000,
}, async () => {
  // Its TypeScript transpiler prints the functions differently: the module's text is compared.
  const other = RUNTIME === "bun" ? "deno" : "bun";
  const queue = fixture.queue();
  await fixture.workers(queue, 1, ROOT, [], other);
  await using executor = new ClusterExecutor({ connection: fixture.redis.url, queue, root: ROOT });
  assert.equal(await executor.submit(something, 4, 10), "4--Woke Up");
  assert.equal(await executor.submit(double, 21), 42);
});

test("map over 10 000 items never has more jobs waiting in Redis than its bound", {
  timeout: 90_000,
}, async () => {
  const { executor, queue } = await cluster({ maxWaiting: 20 }, 2);
  await using _ = executor;
  const { default: IORedis } = await import("ioredis") as unknown as {
    default: new(url: string) => {
      llen(key: string): Promise<number>;
      quit(): Promise<unknown>;
    };
  };
  const probe = new IORedis(fixture.redis.url);
  let most = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      most = Math.max(most, await probe.llen(`bull:${queue}:wait`));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const xs = Array.from({ length: 10_000 }, (_, i) => i);
  let count = 0;
  let sum = 0;
  for await (const y of executor.map(double, xs, { chunksize: 50 })) {
    count++;
    sum += y;
  }
  sampling = false;
  await sampler;
  await probe.quit();
  assert.equal(count, 10_000);
  assert.equal(sum, 2 * (9999 * 10_000) / 2);
  assert.ok(most <= 20, `at most 20 waiting, saw ${most}`);
  assert.ok(most > 0, "the sampler saw jobs waiting");
});

test("bad input: shared objects, a module outside the root, a module that differs, a bad URL", {
  timeout: 90_000,
}, async () => {
  const { executor } = await cluster({}, 1);
  await using _ = executor;
  assert.throws(
    () => executor.submit(echo, { total: new Value("i", 0) }),
    /argument 0 holds a Value, a shared object of this machine's memory/,
  );
  assert.throws(
    () => new ClusterExecutor({ connection: "localhost:6379", queue: "q", root: ROOT }),
    /connection must be a Redis URL such as "redis:\/\/host:6379"/,
  );
  assert.throws(
    () => new ClusterExecutor({ connection: fixture.redis.url, queue: "q", root: "/no/such/dir" }),
    /root '\/no\/such\/dir' is not a directory here/,
  );
  // Redis unreachable from the start: the pending task fails once the limit passes.
  await using nowhere = new ClusterExecutor({
    connection: "redis://127.0.0.1:9",
    queue: "q",
    root: ROOT,
    unreachableTimeout: 1000,
  });
  await assert.rejects(nowhere.submit(double, 1).result(20_000), /unreachable for 1000 ms/);
  // A module outside the root: the executor refuses it before any job is made.
  const outside = tempDir();
  writeFileSync(
    join(outside, "t.mts"),
    readFileSync(join(ROOT, "spec/cluster/targets.ts"), "utf8")
      .replaceAll("../../mod.ts", join(ROOT, "mod.ts")),
  );
  const mod = await import(join(outside, "t.mts"));
  await assert.rejects(executor.submit(mod.double, 1).result(), /outside the cluster's root/);

  // A worker whose checkout differs: it refuses the task instead of running other code.
  const other = tempDir();
  mkdirSync(join(other, "spec/cluster"), { recursive: true });
  writeFileSync(
    join(other, "spec/cluster/targets.ts"),
    `${readFileSync(join(ROOT, "spec/cluster/targets.ts"), "utf8")}\n// changed\n`,
  );
  const queue = fixture.queue();
  await fixture.workers(queue, 1, other);
  await using c2 = new ClusterExecutor({ connection: fixture.redis.url, queue, root: ROOT });
  await assert.rejects(c2.submit(double, 1).result(), /differs between the client and this worker/);
});
