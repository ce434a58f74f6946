/**
 * Progress on a cluster: `ClusterExecutor.map(..., { onProgress })` counts the items done, one
 * job or one chunk at a time; a task that calls `progress()` on a `multiproc worker` runs as any
 * other (its reports stay on that machine: the client's future hears none).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ClusterExecutor } from "../../mod.ts";
import { reportItem, steps } from "../fixtures/progress_targets.ts";
import { clusterFixture } from "./redis.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("spec-progress");

/** Two workers on a new queue, and an executor for it. */
async function cluster(): Promise<ClusterExecutor> {
  const queue = fixture.queue();
  await fixture.workers(queue, 2, ROOT);
  return new ClusterExecutor({ connection: fixture.redis.url, queue, root: ROOT });
}

test("map(): onProgress counts items done up to N, by job and by chunk", {
  timeout: 90_000,
}, async () => {
  await using executor = await cluster();
  const xs = Array.from({ length: 10 }, (_, i) => i);
  const ones: number[] = [];
  const ys: number[] = [];
  const options = { onProgress: (done: number) => ones.push(done) };
  for await (const y of executor.map(reportItem, xs, options)) ys.push(y as number);
  assert.deepEqual(ys, xs.map((x) => 2 * x));
  assert.deepEqual(ones, Array.from({ length: 10 }, (_, i) => i + 1));
  const chunks: number[] = [];
  const chunked = { chunksize: 4, onProgress: (done: number) => chunks.push(done) };
  for await (const _ of executor.map(reportItem, xs, chunked)) void _;
  assert.equal(chunks.length, 3, String(chunks));
  assert.equal(chunks.at(-1), 10);
  assert.throws(
    () => executor.map(reportItem, xs, { onProgress: "no" }),
    /onProgress must be a function/,
  );
});

test("a task that calls progress() runs as any other; the client hears no report", {
  timeout: 90_000,
}, async () => {
  await using executor = await cluster();
  const seen: unknown[] = [];
  const f = executor.submit(steps, "remote", 3).onProgress((v) => seen.push(v));
  assert.equal(await f, "remote");
  assert.deepEqual(seen, []);
});
