/**
 * The `multiproc` command's arguments: --help prints the usage (exit 0); a --root that is not a
 * directory and a --lock-duration under a second are refused at start, each error said once.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { nodeLoaderArgs, RUNTIME } from "../helpers.ts";

const CLI = fileURLToPath(new URL("../../src/entry/cli.ts", import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `multiproc ...args` (no Redis: refused before it connects); its code and output. */
function multiproc(...args: string[]): { code: number | null; out: string; err: string } {
  const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
  const r = spawnSync(process.execPath, [...pre, CLI, ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `multiproc worker` with the flags it needs (Redis nowhere), then `extra`. */
const worker = (...extra: string[]) =>
  multiproc("worker", "--connection", "redis://127.0.0.1:9", "--queue", "q", ...extra);

test("--help and -h print the usage and exit 0, with or without the command", {
  timeout: 120_000,
}, () => {
  for (const args of [["--help"], ["-h"], ["worker", "--help"], ["worker", "-h"]]) {
    const r = multiproc(...args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.err}`);
    assert.match(r.out, /^usage: multiproc worker --connection/, args.join(" "));
    assert.equal(r.err, "", args.join(" "));
  }
});

test("a --root that is a file, or a --lock-duration under a second, is refused at start", {
  timeout: 120_000,
}, () => {
  const file = worker("--root", THIS_FILE);
  assert.notEqual(file.code, 0);
  assert.match(file.err, /^multiproc worker: root '.*cli\.test\.ts' is not a directory here/);
  assert.doesNotMatch(file.err, /multiproc worker: multiproc worker:/, "one prefix");
  const missing = worker("--root", "/no/such/dir");
  assert.match(missing.err, /^multiproc worker: root '\/no\/such\/dir' is not a directory here/);
  for (const ms of ["0", "999"]) {
    const r = worker("--root", ROOT, "--lock-duration", ms);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`^multiproc: --lock-duration must be at least 1000 \\(ms\\)`));
  }
});
