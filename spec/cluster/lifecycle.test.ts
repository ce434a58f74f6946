/**
 * A `ClusterExecutor`'s life in a program: shut down before its connections were open, the
 * program still ends (the connections being opened are closed once they are made).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { nodeLoaderArgs, RUNTIME } from "../helpers.ts";
import { clusterFixture } from "./redis.ts";

const fixture = clusterFixture("spec-lifecycle");

/** Runs spec/cluster/`script` with `args`; its exit code and output, or null if it ran `ms`. */
export function ran(
  script: string,
  args: string[],
  ms: number,
): Promise<{ code: number | null; out: string } | null> {
  const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn(process.execPath, [...pre, file, ...args], { stdio: "pipe" });
  let out = "";
  child.stdout.on("data", (d) => out += String(d));
  child.stderr.on("data", (d) => out += String(d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, ms);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

for (const mode of ["now", "using", "threw"]) {
  test(`an executor shut down before it was connected (${mode}): the program ends`, {
    timeout: 60_000,
  }, async () => {
    const end = await ran("shutdown_client.ts", [fixture.redis.url, mode], 20_000);
    assert.ok(end !== null, "the program still ran 20 s after its executor was shut down");
    assert.equal(end.code, 0, end.out);
    assert.match(end.out, /done/);
  });
}
