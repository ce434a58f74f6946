/**
 * A program's own worker thread using the library: a pool's map awaited at the worker module's
 * top level and a Process, under every start method. The pool used to wait forever on Node
 * (the parent imported the worker's module to confirm the target's export, and that module's
 * evaluation was waiting for the map), and on Deno a `"process"` child could not start from a
 * Web Worker (no main module there: "Cannot read properties of undefined").
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { ALL_METHODS, runScript, RUNTIME } from "./helpers.ts";

/** Node 20 under tsx loads no TypeScript in a program's own worker (tsx has no hooks there). */
const skip = RUNTIME === "node" && Number(process.versions.node.split(".")[0]) < 22
  ? "a worker thread of Node 20 under tsx cannot load the TypeScript fixture"
  : false;

for (const method of ALL_METHODS) {
  test(
    `a program's own worker thread runs a pool and a process [${method}]`,
    { skip },
    async () => {
      const r = await runScript("in_worker.ts", [method], 60_000);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.deepEqual(got, { squares: [1, 4, 9], exitCode: 0 }, r.stderr);
    },
  );
}
