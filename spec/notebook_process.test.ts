/**
 * The notebook's Process cells, under both start methods: one process sleeps and joins; ten
 * sleep in parallel (distinct PIDs under "process"); separate memory keeps `balance` at 400.
 * Sleeps are scaled down from the notebook's seconds; the assertions are the notebook's.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { getContext } from "../mod.ts";
import { balance, deposit, something, withdraw } from "./fixtures/targets.ts";
import { ALL_METHODS, readJson, RUNTIME, tempDir } from "./helpers.ts";

// Node runs the spec's TypeScript through tsx, which costs every child ~300 ms of CPU to start
// (users run the built JavaScript): a longer sleep keeps "parallel" measurable on two cores,
// also while another job keeps both busy.
const SLEEP_MS = RUNTIME === "node" ? 2000 : 1000;

for (const method of ALL_METHODS) {
  const { Process } = getContext(method);

  test(`notebook: one process sleeps and joins [${method}]`, async () => {
    const out = join(tempDir(), "one.json");
    const t0 = performance.now();
    const p1 = new Process({ target: something, args: [0, SLEEP_MS, out] });
    p1.start();
    await p1.join();
    const took = performance.now() - t0;
    assert.equal(p1.exitCode, 0);
    assert.ok(took >= SLEEP_MS, `join returned after ${took} ms, before the ${SLEEP_MS} ms sleep`);
    assert.deepEqual(readJson<{ id: number }>(out).id, 0);
  });

  test(
    `notebook: ten processes sleep in parallel${
      method !== "thread" ? " with distinct PIDs" : ""
    } [${method}]`,
    async () => {
      const dir = tempDir();
      const t0 = performance.now();
      const processes = Array.from(
        { length: 10 },
        (_, i) => new Process({ target: something, args: [i, SLEEP_MS, join(dir, `${i}.json`)] }),
      );
      for (const p of processes) p.start();
      for (const p of processes) await p.join();
      const took = performance.now() - t0;
      assert.deepEqual(processes.map((p) => p.exitCode), Array(10).fill(0));
      assert.ok(took >= SLEEP_MS, `all joined after ${took} ms, before one sleep`);
      const reports = processes.map((_, i) =>
        readJson<{ pid: number; asleep: number; awake: number }>(join(dir, `${i}.json`))
      );
      // In parallel: at one moment most of the ten were asleep at once (one after another,
      // never two would be), however long a loaded machine took to start them.
      const events = reports.flatMap((r) => [[r.asleep, 1], [r.awake, -1]] as const)
        .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let asleep = 0, most = 0;
      for (const [, change] of events) most = Math.max(most, asleep += change);
      assert.ok(most > 5, `not parallel: at most ${most} of the ten were asleep at once`);
      assert.ok(took < 10 * SLEEP_MS, `took ${took} ms: the ten sleeps ran one after another`);
      const pids = processes.map((p) => p.pid);
      // What each child saw of itself is what the parent sees of it.
      assert.deepEqual(reports.map((r) => r.pid), pids);
      if (method !== "thread") {
        assert.equal(new Set(pids).size, 10, `PIDs not distinct: ${pids}`);
        assert.ok(!pids.includes(process.pid), "a child reported the parent's PID");
      } else {
        assert.deepEqual(new Set(pids), new Set([process.pid]), "thread children share the PID");
        assert.equal(new Set(processes.map((p) => p.ident)).size, 10, "idents not distinct");
      }
    },
  );

  test(`notebook: separate memory keeps balance at 400 [${method}]`, async () => {
    const dir = tempDir();
    const depositProcess = new Process({
      target: deposit,
      args: [400, 2000, join(dir, "deposit.json")],
    });
    const withdrawProcess = new Process({
      target: withdraw,
      args: [400, 200, join(dir, "withdraw.json")],
    });
    depositProcess.start();
    withdrawProcess.start();
    await depositProcess.join();
    await withdrawProcess.join();
    assert.equal(balance, 400);
    // Each child changed only its own copy.
    assert.equal(readJson(join(dir, "deposit.json")), 400 + 400 * 2000);
    assert.equal(readJson(join(dir, "withdraw.json")), 400 - 400 * 200);
  });
}
