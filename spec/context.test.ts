/** Start methods and contexts. */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import {
  Context,
  cpuCount,
  currentProcess,
  getAllStartMethods,
  getContext,
  getStartMethod,
  parentProcess,
  Process,
  setStartMethod,
  sleep,
  task,
} from "../mod.ts";
import { RUNTIME } from "./helpers.ts";

const DEFAULT = RUNTIME === "deno" ? "thread" : "process";

test("getStartMethod() defaults to thread on Deno and process on Bun and Node", () => {
  assert.equal(getStartMethod(), DEFAULT);
  assert.deepEqual(getAllStartMethods(), [
    DEFAULT,
    ...["thread", "process", "forkserver"].filter((m) => m !== DEFAULT),
  ]);
});

test("setStartMethod() changes the default, which new Process objects use", async () => {
  const other = DEFAULT === "thread" ? "process" : "thread";
  try {
    setStartMethod(other);
    assert.equal(getStartMethod(), other);
    assert.equal(getContext().getStartMethod(), other);
  } finally {
    setStartMethod(DEFAULT);
  }
  assert.equal(getStartMethod(), DEFAULT);
});

test("setStartMethod() and getContext() refuse an unknown method with the valid ones named", () => {
  assert.throws(() => setStartMethod("fork" as never), {
    name: "TypeError",
    message: /Unknown start method "fork": use one of "thread", "process", "forkserver"/,
  });
  assert.throws(() => getContext("spawn" as never), TypeError);
});

test("getContext() returns one Context per method whose Process is bound to it", () => {
  const t = getContext("thread");
  const p = getContext("process");
  assert.ok(t instanceof Context);
  assert.equal(t, getContext("thread"));
  assert.equal(t.getStartMethod(), "thread");
  assert.equal(p.getStartMethod(), "process");
  assert.ok(new t.Process({ target: () => {} }) instanceof Process);
  assert.equal(t.Process.name, "Process");
});

test("currentProcess() is MainProcess in the parent and parentProcess() is null", () => {
  assert.equal(currentProcess().name, "MainProcess");
  assert.equal(currentProcess().pid, process.pid);
  assert.equal(parentProcess(), null);
});

test("cpuCount() is a positive integer and sleep(ms) waits", async () => {
  assert.ok(Number.isInteger(cpuCount()) && cpuCount() > 0);
  const t0 = performance.now();
  await sleep(50);
  assert.ok(performance.now() - t0 >= 45);
});

test("task() returns the function itself and refuses a non-function", () => {
  const f = (x: number) => x;
  assert.equal(task(import.meta, f), f);
  assert.throws(() => task(import.meta, 1 as never), TypeError);
});

test("new Process() refuses missing options and non-array args", () => {
  assert.throws(() => new Process(undefined as never), TypeError);
  assert.throws(() => new Process({ target: () => {}, args: 5 as never }), /args must be an array/);
});
