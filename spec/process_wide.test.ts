/**
 * Values kept once per process for every copy of the library in it (two copies meet in a child
 * whose target's module imports another install of the library than the child's own). The first
 * copy's value stands, null included: a `multiproc worker` on Bun whose task module imported a
 * second copy had that copy look for "the program's main module" again after the child had taken
 * its parent's command line — it found the CLI, imported it, and every child became a worker with
 * children of its own.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type GlobalName, processWide } from "../src/core/process_wide.ts";

test("processWide: the first copy's null stands; a later copy's init does not run", () => {
  const name = `test.nullable.${Math.random()}` as GlobalName;
  let calls = 0;
  assert.equal(processWide(name, () => (calls++, null)), null);
  assert.equal(processWide(name, () => (calls++, { found: "the parent's main script" })), null);
  assert.equal(calls, 1);
});

test("processWide: undefined stands too, and an object is shared as it is", () => {
  const none = `test.undefined.${Math.random()}` as GlobalName;
  assert.equal(processWide(none, () => undefined), undefined);
  assert.equal(processWide<unknown>(none, () => "again"), undefined);
  const some = `test.object.${Math.random()}` as GlobalName;
  const first = processWide(some, () => ({ n: 1 }));
  assert.equal(processWide(some, () => ({ n: 2 })), first);
});
