#!/usr/bin/env zx
// The whole test suite: formatting, types, then the executable spec on Deno, Bun and Node (Node
// under c8 coverage). Ends with one line "N passed, N failed" summing every runtime.
import { readdirSync } from "node:fs";
import { $, cd, chalk } from "zx";
import { ROOT } from "./runtimes.mjs";

cd(ROOT);
$.verbose = false;
const specs = readdirSync("spec").filter((f) => f.endsWith(".test.ts")).map((f) => `spec/${f}`);
const only = process.argv.slice(3).filter((a) => !a.startsWith("-"));
const rows = [];

async function step(name, command, parse) {
  console.log(chalk.bold(`\n── ${name}`));
  const out = await command.nothrow();
  const text = out.stdout + out.stderr;
  const counts = parse(text, out.exitCode);
  // A runner that failed without a count of failures still counts as one failure.
  if (out.exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  rows.push({ name, ...counts });
  console.log(`${name}: ${counts.passed} passed, ${counts.failed} failed`);
}

const check = (_text, code) => ({ passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
const num = (re, text) => Number(re.exec(text)?.[1] ?? 0);
const live = (p) => (p.stdout.pipe(process.stdout), p.stderr.pipe(process.stderr), p);

if (!only.length || only.includes("lint")) {
  await step("format (dprint check)", live($`dprint check`), check);
  await step(
    "types (deno check, tsc)",
    live(
      $`deno check mod.ts src/entry/thread.ts src/entry/worker.ts src/entry/process.ts spec scripts && tsc -p tsconfig.json`,
    ),
    check,
  );
}
if (!only.length || only.includes("deno")) {
  await step("deno", live($`deno test -A --no-check ${specs}`), (t) => ({
    passed: num(/(\d+) passed/, t),
    failed: num(/(\d+) failed/, t),
  }));
}
if (!only.length || only.includes("bun")) {
  await step("bun", live($`bun test ${specs.map((s) => `./${s}`)}`), (t) => ({
    passed: num(/^\s*(\d+) pass$/m, t),
    failed: num(/^\s*(\d+) fail$/m, t),
  }));
}
if (!only.length || only.includes("node")) {
  await step(
    "node (c8 coverage)",
    live(
      $`c8 --reporter=text-summary --include=src/** --include=mod.ts node --import tsx --test --test-reporter=spec ${specs}`,
    ),
    (t) => ({ passed: num(/ℹ pass (\d+)/, t), failed: num(/ℹ fail (\d+)/, t) }),
  );
}

const passed = rows.reduce((n, r) => n + r.passed, 0);
const failed = rows.reduce((n, r) => n + r.failed, 0);
console.log(chalk.bold("\n── summary"));
for (const r of rows) console.log(`${r.name.padEnd(24)} ${r.passed} passed, ${r.failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
