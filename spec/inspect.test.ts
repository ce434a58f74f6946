/**
 * What `console.log` shows of the library's objects: as CPython's `print` shows their repr, a
 * line of their state -- never their internals (a Lock's 64 KiB of shared memory).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect as nodeInspect } from "node:util";
import { getContext, SyncManager } from "../mod.ts";
import { wokeUp } from "./fixtures/pool_targets.ts";
import { METHODS } from "./helpers.ts";

/** What `console.log` prints for `v`: Deno's console has its own inspect, Node's and Bun's util's. */
const shown = (v: unknown): string => {
  const deno = (globalThis as { Deno?: { inspect(v: unknown): string } }).Deno;
  return deno ? deno.inspect(v) : nodeInspect(v);
};

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`console.log shows processes, locks, values and queues as a line of state [${method}]`, async () => {
    const p = new ctx.Process({ target: wokeUp, args: [1, 100], name: "napper", daemon: true });
    assert.equal(shown(p), "<Process name='napper' initial daemon>");
    await p.start();
    assert.match(shown(p), /^<Process name='napper' pid=\d+ started daemon>$/);
    await p.join();
    assert.match(String(p), /^<Process name='napper' pid=\d+ stopped exitcode=0 daemon>$/);
    p.close();
    assert.equal(shown(p), "<Process name='napper' closed daemon>");

    const lock = new ctx.Lock();
    lock.acquire();
    assert.equal(shown(lock), "<Lock(locked)>");
    lock.release();
    assert.equal(shown({ lock }), "{ lock: <Lock(unlocked)> }");
    assert.equal(shown(new ctx.BoundedSemaphore(2)), "<BoundedSemaphore(value=2, maxvalue=2)>");
    assert.equal(shown(new ctx.Semaphore(3)), "<Semaphore(value=3)>");
    const event = new ctx.Event();
    event.set();
    assert.equal(shown(event), "<Event(set)>");
    assert.equal(shown(new ctx.Condition()), "<Condition(<RLock(unlocked)>)>");
    assert.equal(shown(new ctx.Barrier(2)), "<Barrier(parties=2, waiting=0)>");
    assert.equal(shown(new ctx.Value("i", 3)), "Value('i', 3)");
    assert.equal(shown(new ctx.RawArray("d", [1, 2])), "RawArray('d', [1, 2])");
    const q = new ctx.Queue(5);
    q.put(1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(shown(q), "<Queue(qsize=1, maxsize=5)>");
    q.close();
    assert.equal(shown(q), "<Queue(closed)>");
    const [a, b] = ctx.Pipe(false);
    assert.equal(
      shown([a, b]).replace(/\s+/g, " "),
      "[ <Connection(readable)>, <Connection(writable)> ]",
    );
  });

  test(`console.log shows pools and executors as CPython's repr does [${method}]`, async () => {
    const pool = new ctx.Pool({ processes: 2 });
    assert.equal(shown(pool), "<Pool state=RUN pool_size=2>");
    pool.close();
    assert.equal(shown(pool), "<Pool state=CLOSE pool_size=2>");
    await pool.join();
    const ex = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
    assert.equal(shown(ex), "<ProcessPoolExecutor max_workers=2>");
    await ex.shutdown();
    assert.equal(shown(ex), "<ProcessPoolExecutor max_workers=2 shutdown>");
  });
}

test("console.log shows a manager and its proxies as what they stand for", async () => {
  const manager = new SyncManager();
  assert.equal(shown(manager), "<SyncManager state=initial>");
  await manager.start();
  assert.match(shown(manager), /^<SyncManager state=started address=.+manager\.sock>$/);
  assert.match(shown(await manager.dict({ a: 1 })), /^<DictProxy of dict #\d+ at .+>$/);
  await manager.shutdown();
  assert.match(shown(manager), /^<SyncManager state=shutdown address=.+>$/);
});
