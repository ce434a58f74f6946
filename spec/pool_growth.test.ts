/**
 * A pool that grows for tasks that wait (`WorkerPool`'s `eagerWorkers`, what `multiproc worker`'s
 * local pool runs with): quick tasks stay on the eager workers, slow ones get a worker each once
 * tasks have waited `GROW_MS` with no progress, and a task that times out or kills its worker
 * meanwhile fails alone, on time, while the others finish; `prestart()` has workers up before
 * any task (as `multiproc worker` does), and rejects when they cannot start.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BrokenProcessPool, TimeoutError } from "../mod.ts";
import type { Future } from "../src/futures/future.ts";
import { WorkerPool } from "../src/pool/worker_pool.ts";
import {
  exitWith,
  failingInit,
  nameAfter,
  something,
  twice,
  waitForever,
  whoRuns,
} from "./fixtures/pool_targets.ts";
import { METHODS } from "./helpers.ts";

type Who = { pid: number; ident: number; name: string };

/** A pool of at most `max` workers, `eager` of them started at once. */
function pool(method: (typeof METHODS)[number], max: number, eager: number): WorkerPool {
  return new WorkerPool({
    method,
    maxWorkers: max,
    eagerWorkers: eager,
    what: "spec",
    workerName: "GrowthWorker",
  });
}

/** Closes `p` and waits for its workers to end. */
async function end(p: WorkerPool): Promise<void> {
  p.close();
  await p.joinWorkers();
}

for (const method of METHODS) {
  test(`quick stoppable tasks, 6 at a time, stay on the eager worker [${method}]`, {
    timeout: 60_000,
  }, async () => {
    const p = pool(method, 6, 1);
    try {
      const seen = new Set<string>();
      // As a cluster worker runs its jobs: each alone in its worker (stoppable), 6 pending.
      let next = 0;
      const lane = async () => {
        while (next < 300) {
          next++;
          const who = await p.submit<Who>(whoRuns, [], undefined, {});
          seen.add(who.name);
        }
      };
      await Promise.all(Array.from({ length: 6 }, lane));
      // Without the limit, the first 6 tasks alone start 6 workers.
      assert.ok(seen.size < 6, `${seen.size} workers ran 300 quick tasks: ${[...seen]}`);
      assert.equal(await p.submit(twice, [21], undefined, {}), 42);
    } finally {
      await end(p);
    }
  });

  test(
    `slow stoppable tasks get a worker each once they wait [${method}]`,
    { timeout: 60_000 },
    async () => {
      const p = pool(method, 4, 1);
      try {
        await p.submit(twice, [1], undefined, {}); // the eager worker is up
        // 4 workers ran them: the last ones started before the first was done (else the worker
        // that was done would have taken one). The pool adds one worker at a time, each once the
        // one before is up: 4 s leaves each boot 1.3 s (2.5 s was too short for Node 20 + tsx + c8
        // on shared CPUs: 4 tasks on 3 workers, with two CI runs at once).
        const names = await Promise.all(
          Array.from({ length: 4 }, () => p.submit<string>(nameAfter, [4000], undefined, {})),
        );
        assert.equal(new Set(names).size, 4, `4 slow tasks ran on ${names}`);
      } finally {
        await end(p);
      }
    },
  );

  test(`while the pool grows, a timed-out task and a dying worker fail alone [${method}]`, {
    timeout: 60_000,
  }, async () => {
    const p = pool(method, 3, 1);
    try {
      await p.submit(twice, [1], undefined, {});
      const t0 = performance.now();
      const hung = p.submit(waitForever, [], undefined, { timeout: 800 }) as Future<unknown>;
      const dies = p.submit(exitWith, [3], undefined, {});
      const slow = [0, 1].map((i) => p.submit(something, [i, 300], undefined, {}));
      await assert.rejects(hung.result(), TimeoutError);
      const late = performance.now() - t0;
      assert.ok(late < 800 + 3000, `the timeout of 800 ms fired after ${late.toFixed(0)} ms`);
      await assert.rejects(
        dies.result(),
        (e: Error) => e instanceof BrokenProcessPool && /exit code 3/.test(e.message),
      );
      for (const f of slow) assert.match((await f as { text: string }).text, /Woke Up/);
      assert.equal(await p.submit(twice, [4], undefined, {}), 8, "the pool goes on");
    } finally {
      await end(p);
    }
  });
}

for (const method of METHODS) {
  test(
    `prestart(2): two workers up before any task; a failing initializer rejects it [${method}]`,
    {
      timeout: 60_000,
    },
    async () => {
      const p = pool(method, 4, 2);
      try {
        await p.prestart(2);
        const who = await Promise.all([0, 1].map(() => p.submit<Who>(whoRuns, [], undefined, {})));
        assert.equal(new Set(who.map((w) => w.name)).size, 2, "each ran on a worker of its own");
      } finally {
        await end(p);
      }
      const broken = new WorkerPool({
        method,
        maxWorkers: 2,
        initializer: failingInit,
        what: "spec",
        workerName: "GrowthWorker",
      });
      await assert.rejects(
        broken.prestart(2),
        (e: Error) =>
          e instanceof BrokenProcessPool && /initializer fails on purpose/.test(e.message),
      );
      await broken.joinWorkers();
    },
  );
}
