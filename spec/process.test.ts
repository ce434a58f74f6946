/** The Process lifecycle of the contract, under both start methods. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { activeChildren, getContext, ProcessError, sleep } from "../mod.ts";
import { launch, type Popen } from "../src/runtime/popen.ts";
import {
  asyncWrite,
  echoArgs,
  exitsRaw,
  exitsWith,
  fails,
  forever,
  rejects,
  reportEnv,
  syncWrite,
  throwsLater,
  whoAmI,
} from "./fixtures/targets.ts";
import { ALL_METHODS, eventually, pidAlive, readJson, runScript, tempDir } from "./helpers.ts";

for (const method of ALL_METHODS) {
  const { Process } = getContext(method);
  const tag = `[${method}]`;

  test(`a target whose module awaits an import at its top level starts and runs ${tag}`, async () => {
    // Its child imports it while booting (after its boot message came): it must still run.
    const module = new URL("./fixtures/tla_targets.ts", import.meta.url);
    const { setAnswer } = await import(module.href);
    const out = new (getContext(method).Value)("i", 0);
    const p = new Process({ target: setAnswer, args: [out], module });
    await p.start();
    await p.join(5000);
    assert.equal(p.exitCode, 0);
    assert.equal(out.value, 42);
  });

  test(`Process.exitCode is 0 after a sync target returns ${tag}`, async () => {
    const out = join(tempDir(), "sync.json");
    const p = new Process({ target: syncWrite, args: [out, "sync ran"] });
    assert.equal(p.exitCode, null);
    await p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(readJson(out), "sync ran");
  });

  test(`a child sees the environment as the parent changed it before start() ${tag}`, async () => {
    // Bun.spawn gave the environment Bun started with; a forkserver spare, the one it booted
    // with (both found by a user's try).
    const names = ["MP_SPEC_SET", "MP_SPEC_GONE"];
    process.env.MP_SPEC_GONE = "here at first";
    for (let round = 0; round < 3; round++) {
      const out = join(tempDir(), `env${round}.json`);
      const value = `round ${round}`;
      process.env.MP_SPEC_SET = value;
      if (round === 2) delete process.env.MP_SPEC_GONE;
      const p = new Process({ target: reportEnv, args: [out, names] });
      await p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      const gone = round === 2 ? null : "here at first";
      assert.deepEqual(readJson(out), { MP_SPEC_SET: value, MP_SPEC_GONE: gone });
      await sleep(method === "forkserver" ? 300 : 0); // a spare booted before the next change
    }
    delete process.env.MP_SPEC_SET;
  });

  test(`arguments of megabytes reach the child whole (many reads of its channel) ${tag}`, async () => {
    const out = join(tempDir(), "big.json");
    const big = Array.from({ length: 3 }, (_, i) => `${i}:${"é-x".repeat(400_000)}`);
    const p = new Process({ target: syncWrite, args: [out, big] });
    await p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.deepEqual(readJson(out), big);
  });

  test(`Process awaits an async target before the child exits ${tag}`, async () => {
    const out = join(tempDir(), "async.json");
    const p = new Process({ target: asyncWrite, args: [out, { a: 1 }, 150] });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.deepEqual(readJson(out), { a: 1 });
  });

  test(`Process.exitCode is 1 when the target throws or rejects ${tag}`, async () => {
    const a = new Process({ target: fails });
    const b = new Process({ target: rejects });
    a.start();
    b.start();
    await a.join();
    await b.join();
    assert.equal(a.exitCode, 1);
    assert.equal(b.exitCode, 1);
  });

  test(`Process.exitCode is n after exit(n) in the child ${tag}`, async () => {
    const p = new Process({ target: exitsWith, args: [7] });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 7);
  });

  test(`Process.exitCode is n after the runtime's own exit(n) in the child ${tag}`, async () => {
    const a = new Process({ target: exitsRaw, args: [5, "process"] });
    const b = new Process({ target: exitsRaw, args: [6, "runtime"] });
    a.start();
    b.start();
    await a.join();
    await b.join();
    assert.equal(a.exitCode, 5);
    assert.equal(b.exitCode, 6);
  });

  test(`Process.exitCode is 1 after an uncaught error outside the target ${tag}`, async () => {
    const p = new Process({ target: throwsLater });
    p.start();
    await p.join(5000);
    assert.equal(p.exitCode, 1);
  });

  test(`Process.terminate() gives -15 and kill() gives -9 ${tag}`, async () => {
    const t = new Process({ target: forever });
    const k = new Process({ target: forever });
    await t.start();
    await k.start();
    assert.ok(t.isAlive() && k.isAlive());
    t.terminate();
    k.kill();
    await t.join();
    await k.join();
    assert.equal(t.exitCode, -15);
    assert.equal(k.exitCode, -9);
    assert.ok(!t.isAlive() && !k.isAlive());
  });

  test(`Process.join(timeoutMs) returns after the timeout with exitCode null ${tag}`, async () => {
    const p = new Process({ target: forever });
    p.start();
    const t0 = performance.now();
    await p.join(200);
    const took = performance.now() - t0;
    assert.ok(took >= 190, `join(200) returned after ${took} ms`);
    assert.equal(p.exitCode, null);
    assert.ok(p.isAlive());
    p.terminate();
    await p.join();
    assert.equal(p.exitCode, -15);
  });

  test(`Process.isAlive() is true from start() until exit ${tag}`, async () => {
    const p = new Process({ target: asyncWrite, args: [join(tempDir(), "x.json"), 1, 100] });
    assert.equal(p.isAlive(), false);
    const started = p.start();
    assert.equal(p.isAlive(), true);
    await started;
    assert.equal(p.isAlive(), true);
    assert.ok(activeChildren().includes(p));
    await p.join();
    assert.equal(p.isAlive(), false);
    assert.ok(!activeChildren().includes(p));
  });

  test(`Process name, pid and ident, and the child's view of itself ${tag}`, async () => {
    const out = join(tempDir(), "who.json");
    const p = new Process({ target: whoAmI, args: [out] });
    assert.match(p.name, /^Process-\d+$/);
    assert.equal(p.pid, null);
    await p.start();
    await p.join();
    const seen = readJson<Record<string, unknown>>(out);
    assert.equal(seen.name, p.name);
    assert.equal(seen.pid, p.pid);
    assert.equal(seen.ident, p.ident);
    assert.equal(seen.daemon, false);
    assert.equal(seen.isMain, false, "isMain() must be false in a child");
    assert.equal(seen.startMethod, method, "a child defaults to its own start method");
    const parent = seen.parent as { name: string; pid: number };
    assert.equal(parent.name, "MainProcess");
    assert.equal(parent.pid, process.pid);
    if (method !== "thread") {
      assert.notEqual(p.pid, process.pid);
      assert.equal(p.ident, p.pid);
    } else assert.equal(p.pid, process.pid);

    const named = new Process({ target: whoAmI, args: [out], name: "worker-a" });
    await named.start();
    await named.join();
    assert.equal(readJson<{ name: string }>(out).name, "worker-a");
  });

  test(`Process args cross by structured clone ${tag}`, async () => {
    const out = join(tempDir(), "args.json");
    const args = [1, "two", [3, { four: 4 }], null, true];
    const p = new Process({ target: echoArgs, args: [out, ...args] });
    p.start();
    await p.join();
    assert.deepEqual(readJson(out), args);
  });

  test(`Process.start() twice rejects with ProcessError ${tag}`, async () => {
    const p = new Process({ target: syncWrite, args: [join(tempDir(), "t.json"), 1] });
    const first = p.start();
    await assert.rejects(p.start(), (e: Error) => {
      assert.equal(e.name, "ProcessError");
      assert.match(e.message, /twice/);
      return true;
    });
    await first;
    await p.join();
    assert.equal(p.exitCode, 0);
  });

  test(`Process.join() before start() throws ProcessError ${tag}`, () => {
    const p = new Process({ target: syncWrite });
    assert.throws(() => p.join(), ProcessError);
    assert.throws(() => p.terminate(), ProcessError);
  });

  test(`Process with an argument that cannot cross rejects start() and join() naming its position ${tag}`, async () => {
    const p = new Process({ target: echoArgs, args: ["x", () => 1] });
    const started = p.start();
    await assert.rejects(started, (e: Error) => {
      assert.match(e.message, /argument 1 \(args\[1\]\)/);
      assert.match(e.message, /echoArgs/);
      return true;
    });
    await assert.rejects(p.join(), (e: Error) => /argument 1/.test(e.message));
    assert.equal(p.isAlive(), false);
  });

  test(`Process.start()'s ignored rejection does not crash the program ${tag}`, async () => {
    const p = new Process({ target: () => 1 });
    p.start(); // not exported: rejects, and nobody awaits it
    await sleep(100);
    await assert.rejects(p.join(), /not exported/);
  });

  test(`Process.close() throws while running and makes later use throw ${tag}`, async () => {
    const p = new Process({ target: forever });
    await p.start();
    assert.throws(() => p.close(), /while it is running/);
    p.kill();
    await p.join();
    p.close();
    assert.throws(() => p.isAlive(), /closed/);
    assert.throws(() => p.join(), /closed/);
    await assert.rejects(p.start(), /closed/);
  });

  test(`Process.daemon cannot change after start() ${tag}`, async () => {
    const p = new Process({ target: syncWrite, args: [join(tempDir(), "d.json"), 1] });
    p.daemon = true;
    assert.equal(p.daemon, true);
    p.start();
    assert.throws(() => (p.daemon = false), ProcessError);
    await p.join();
  });

  test(`a child's console output reaches the parent's stdout and stderr ${tag}`, async () => {
    const r = await runScript("console.ts", [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /main isMain=true/);
    assert.match(r.stdout, /child 7 says hello on stdout/);
    assert.match(r.stderr, /child 7 says hello on stderr/);
    assert.match(r.stdout, /main exitCode=0/);
  });

  test(`a blocking call right after an un-awaited start() says why it waits, once ${tag}`, async () => {
    const r = await runScript("start_then_block.ts", [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /first=Empty then=late\nawaited=in time/);
    const [before, after] = r.stderr.split("-- awaited --");
    assert.equal(
      before.match(/a call blocks this thread while process 'Process-\d+' is still starting/g)
        ?.length,
      1,
      r.stderr,
    );
    assert.match(before, /Await start\(\) before a blocking call/);
    assert.doesNotMatch(after, /still starting/, "no warning once start() is awaited");
  });

  test(`a failing child prints its stack on stderr ${tag}`, async () => {
    const r = await runScript("fails.ts", [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /RangeError: deliberate failure in child/);
    assert.match(r.stderr, /targets\.ts/);
    assert.match(r.stdout, /exitCode=1/);
  });

  test(`daemon children end when the main process exits ${tag}`, async () => {
    const out = join(tempDir(), "normal.json");
    const r = await runScript("daemon.ts", [method, out], 20_000);
    assert.equal(r.code, 0, r.stderr);
    const m = /DAEMON (\d+) true/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.ok(existsSync(out), "the non-daemon child was not waited for");
    if (method !== "thread") {
      assert.ok(await eventually(() => !pidAlive(Number(m[1])), 1000), "the daemon outlived main");
    }
  });

  test(`a child whose boot cannot be made or sent is killed, not left waiting for it ${tag}`, async () => {
    let child: Popen | undefined;
    const noBoot = () => {
      throw new Error("no boot for this child");
    };
    assert.throws(
      () => launch(method, { onMessage: () => {}, daemon: false }, (p) => (child = p, noBoot())),
      /no boot for this child/,
    );
    assert.ok(child, "no child was launched");
    let code: number | undefined;
    void child.exited.then((c) => (code = c));
    assert.ok(await eventually(() => code !== undefined, 10_000), "the child is still running");
    assert.equal(code, -9);
  });
}
