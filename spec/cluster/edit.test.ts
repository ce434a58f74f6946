/**
 * A task's module edited while a `multiproc worker` runs: the worker's children had the old
 * version loaded; a job of the new version (its source hash) runs the new code in new children,
 * never the old code, and an export added by the edit is found.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { nodeLoaderArgs, RUNTIME } from "../helpers.ts";
import { clusterFixture } from "./redis.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("spec-edit");

/** Runs spec/cluster/edit_client.ts: `name` of `module` submitted `count` times, the outcomes. */
function submitted(queue: string, module: string, name: string, count: number): unknown[] {
  const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
  const client = fileURLToPath(new URL("./edit_client.ts", import.meta.url));
  const args = [...pre, client, fixture.redis.url, queue, module, name, String(count)];
  const out = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000 });
  assert.equal(out.status, 0, `the client failed:\n${out.stdout}\n${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").at(-1)!);
}

/** Writes the module at `path` returning `version` (and an `added` task, if asked). */
function writeModule(path: string, version: string, added: boolean): void {
  const extra = added ? `export const added = task(import.meta, () => "added");\n` : "";
  writeFileSync(
    path,
    `import { task } from "../../mod.ts";\n`
      + `export const version = task(import.meta, () => "${version}");\n${extra}`,
  );
}

test("a module edited while workers run: its jobs run the new code, its new task() is found", {
  timeout: 90_000,
}, async () => {
  const path = join(ROOT, "spec/cluster", `edited-${process.pid}-${Date.now()}.ts`);
  try {
    const queue = fixture.queue();
    await fixture.workers(queue, 1, ROOT);
    writeModule(path, "v1", false);
    assert.deepEqual(submitted(queue, path, "version", 6), Array(6).fill("v1"));
    // Edited while the worker runs: a client started now sends the new version.
    writeModule(path, "v2", true);
    assert.deepEqual(submitted(queue, path, "version", 6), Array(6).fill("v2"), "the new code");
    assert.deepEqual(submitted(queue, path, "added", 2), ["added", "added"], "a new export");
  } finally {
    rmSync(path, { force: true });
  }
});
