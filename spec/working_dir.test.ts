/**
 * A program that changes its working directory before it starts children: they start anyway,
 * their loader flags (`--import tsx` by name in the Node 20 lane) resolved where the program
 * started, and work in the parent's new directory, as CPython's do (its `ORIGINAL_DIR`, and the
 * `dir` of its preparation data). Children used to fail to start under Node ("Cannot find
 * package 'tsx' imported from" the new directory).
 */
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import { test } from "node:test";
import { ALL_METHODS, runScript, tempDir } from "./helpers.ts";

for (const method of ALL_METHODS) {
  test(`after process.chdir(), children start and work in the new directory [${method}]`, async () => {
    const dir = realpathSync(tempDir());
    const r = await runScript("chdir.ts", [method, dir]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(got, { pool: dir, process: dir, exitCode: 0 }, r.stderr);
  });
}
