/**
 * What a `ClusterExecutor` refuses in the caller, as a local pool does, instead of sending it
 * changed: values MessagePack cannot carry unchanged (functions, symbols, WeakMap, WeakSet,
 * Promise, a sparse array's holes); and a result of that kind is refused in the worker's child.
 * Its errors name a `task()` function by its export. A closure, or a function its module does not
 * export, is refused before Redis, as a local pool refuses it: its future rejects.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ClusterExecutor } from "../../mod.ts";
import { nodeLoaderArgs, RUNTIME, tempDir } from "../helpers.ts";
import { clusterFixture } from "./redis.ts";
import { double, echo, withFunction } from "./targets.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("spec-refusals");

/** One worker on a new queue, and an executor for it. */
async function cluster(): Promise<ClusterExecutor> {
  const queue = fixture.queue();
  await fixture.workers(queue, 1, ROOT);
  return new ClusterExecutor({ connection: fixture.redis.url, queue, root: ROOT });
}

test("values MessagePack would change are refused in the caller, naming the argument", {
  timeout: 90_000,
}, async () => {
  await using executor = await cluster();
  const cannot = (i: number, what: string) =>
    new RegExp(
      `^ClusterExecutor\\.submit\\(\\): argument ${i} cannot be sent to a cluster worker: it ${what}`,
    );
  const refused: [unknown[], RegExp][] = [
    [[{ cb: () => 1 }], cannot(0, "holds a function \\(\\(\\) ?=> ?1\\)")],
    [[1, new WeakMap()], cannot(1, "holds a WeakMap")],
    [[new WeakSet()], cannot(0, "holds a WeakSet")],
    [[{ later: Promise.resolve(1) }], cannot(0, "holds a Promise")],
    [[[1, , 3]], cannot(0, "holds a sparse array \\(no element at index 1")],
    [[Symbol("s")], cannot(0, "is a symbol \\(Symbol\\(s\\)\\)")],
    [[new Map([[1, () => 2]])], cannot(0, "holds a function")],
  ];
  const anyArgs = echo as (...args: unknown[]) => unknown;
  for (const [args, message] of refused) {
    assert.throws(() => executor.submit(anyArgs, ...args), (e: Error) => {
      assert.equal(e.name, "TypeError");
      assert.match(e.message, message);
      return true;
    });
  }
  await assert.rejects(
    async () => {
      for await (const _ of executor.map(echo, [1, () => 2], { chunksize: 2 })) { /* none */ }
    },
    /ClusterExecutor\.map\(\): argument 0 cannot be sent to a cluster worker: it is a function/,
  );
  // What crosses still does: a cycle, undefined, an array with undefined in it (not a hole).
  const cycle: Record<string, unknown> = { list: [1, undefined, 3] };
  cycle.self = cycle;
  const back = await executor.submit(echo, cycle) as typeof cycle;
  assert.equal(back.self, back);
  assert.deepEqual(back.list, [1, undefined, 3]);
  // A result that would arrive changed fails its task, saying what it holds.
  const e = await executor.submit(withFunction).exception() as Error;
  assert.equal(e?.name, "TypeError", String(e));
  assert.match(e.message, /^the result of 'withFunction' cannot be sent back: it holds a function/);
});

test("refusals name an anonymous task() by its export: outside the root, a module that differs", {
  timeout: 90_000,
}, async () => {
  await using executor = await cluster();
  const targets = readFileSync(join(ROOT, "spec/cluster/targets.ts"), "utf8");
  const outside = tempDir();
  writeFileSync(
    join(outside, "t.mts"),
    targets.replaceAll("../../mod.ts", join(ROOT, "mod.ts")),
  );
  const mod = await import(join(outside, "t.mts")) as { double: typeof double };
  await assert.rejects(
    executor.submit(mod.double, 1).result(),
    /^TypeError: ClusterExecutor: cannot run: 'double' is in .*, outside the cluster's root/,
  );
  // A worker whose checkout differs names it too.
  const other = tempDir();
  mkdirSync(join(other, "spec/cluster"), { recursive: true });
  writeFileSync(join(other, "spec/cluster/targets.ts"), `${targets}\n// changed\n`);
  const queue = fixture.queue();
  await fixture.workers(queue, 1, other);
  await using c2 = new ClusterExecutor({ connection: fixture.redis.url, queue, root: ROOT });
  await assert.rejects(
    c2.submit(double, 1).result(),
    /the module 'spec\/cluster\/targets\.ts' of 'double' differs between the client and this/,
  );
});

test("a closure or a function not exported: its future rejects in the caller, before Redis", {
  timeout: 90_000,
}, async () => {
  const queue = fixture.queue();
  const [w] = await fixture.workers(queue, 1, ROOT);
  const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
  const client = fileURLToPath(new URL("./closure_client.ts", import.meta.url));
  const args = [...pre, client, fixture.redis.url, queue];
  const out = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000 });
  assert.equal(out.status, 0, `the client failed:\n${out.stdout}\n${out.stderr}`);
  const [closure, notExported, exported] = JSON.parse(out.stdout.trim().split("\n").at(-1)!);
  assert.match(
    closure,
    /^error: TypeError: ClusterExecutor: cannot run: the target is an anonymous function in '.*closure_client\.ts' that no task\(\) marks/,
  );
  assert.match(
    notExported,
    /^error: TypeError: ClusterExecutor: cannot run: target 'notExported' is not exported from '.*closure_client\.ts'/,
  );
  assert.equal(exported, 30, "an export of the module, confirmed by the worker");
  await w.lines.wait(/ finished in /, 10_000, "the worker's line of its job");
  const started = w.lines.all.filter((l) => / started: /.test(l));
  assert.deepEqual(started.length, 1, `one job reached the worker:\n${started.join("\n")}`);
});
