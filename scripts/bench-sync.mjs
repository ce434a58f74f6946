#!/usr/bin/env zx
// Locks across children: the notebook's locked scenario (100000 × +1 against 10000 × −1, with
// spawning, as the notebook times it) and a contended loop (1e6 against 1e6 locked updates,
// timed from a common start signal), per runtime × start method, against CPython's
// multiprocessing.Value + Lock (fork and spawn) in the same run. Writes bench/results/sync.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import {
  CA_VARIABLE,
  ROOT,
  runFixtureIn,
  runJson,
  RUNTIMES,
  withoutExtraCaCerts,
} from "./runtimes.mjs";

cd(ROOT);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Node and Bun users run the built package (runtimes.mjs ENTRY): build dist/ first.
await $`zx scripts/build.mjs`;

function check(results, expected, what) {
  for (const r of results) {
    if (r.final !== expected) {
      throw new Error(`${what}: final balance ${r.final}, expected ${expected}`);
    }
  }
  return median(results.map((r) => r.ms));
}

const py = await runJson(["python3", "bench/fixtures/sync_cpython.py", String(RUNS)]);
const anchors = {};
for (const m of ["fork", "spawn"]) {
  anchors[m] = {
    notebook: check(py[m].notebook, 90400, `CPython ${m} notebook`),
    contended: check(py[m].contended, 0, `CPython ${m} contended`),
  };
  console.log(
    `CPython ${m}: notebook ${anchors[m].notebook.toFixed(1)} ms, contended ${
      anchors[m].contended.toFixed(1)
    } ms`,
  );
}

// Node (and Bun) read NODE_EXTRA_CA_CERTS at every start: where it is set, process children are
// measured a second time without it (the library cannot defer it for Node 20).
const environments = [{ label: "", env: process.env }];
if (process.env[CA_VARIABLE]) {
  environments.push({ label: `, no ${CA_VARIABLE}`, env: withoutExtraCaCerts(), only: "process" });
}
const rows = [];
for (const { label, env, only } of environments) {
  for (const runtime of RUNTIMES) {
    for (const method of ["thread", "process"]) {
      if (only && method !== only) continue;
      const run = (name, ...args) => runFixtureIn(env, runtime, name, method, ...args);
      const notebook = check(
        await run("sync_lib.mjs", "notebook", RUNS),
        90400,
        `${runtime} ${method} notebook`,
      );
      const contended = check(
        await run("sync_lib.mjs", "contended", Math.max(1, RUNS >> 1)),
        0,
        `${runtime} ${method} contended`,
      );
      const floor = median(await run("start_bare.mjs", RUNS, "pair"));
      rows.push({ runtime, method: method + label, notebook, contended, floor });
      console.log(
        `${runtime} ${method}${label}: notebook ${notebook.toFixed(1)} ms, contended ${
          contended.toFixed(1)
        } ms, floor ${floor.toFixed(1)} ms`,
      );
    }
  }
}

const f = (x) => x.toFixed(1);
const r = (x) => x.toFixed(2);
const lines = [
  `# Locks across children (median, ms) — ${new Date().toISOString()}`,
  "",
  `${
    (await $`python3 --version`).stdout.trim()
  }, \`multiprocessing.Value('i')\` + \`Lock\`: notebook `
  + `fork ${f(anchors.fork.notebook)} / spawn ${f(anchors.spawn.notebook)} ms; contended fork `
  + `${f(anchors.fork.contended)} / spawn ${f(anchors.spawn.contended)} ms.`,
  "",
  "Notebook: the locked cell whole (Value, Lock, two children started and joined; 100000 × +1",
  "against 10000 × −1; ends at exactly 90400). Contended: 1e6 × +1 against 1e6 × −1 under one",
  "lock, from a common start signal to the last child's end. Targets: notebook ≤ CPython fork,",
  "contended ≤ 0.2 × CPython. Floor: two bare children of the runtime (no library) started at once",
  "until both have said they are up — what the runtime itself costs before any work.",
  ...(process.env[CA_VARIABLE]
    ? [
      `This machine sets ${CA_VARIABLE}, which Node 20 parses at every start (~90 ms per`,
      "process here; Bun reads it too): \"process\" rows are repeated without it.",
    ]
    : []),
  "",
  "| runtime | method | notebook | / CPython fork | floor | contended | / CPython fork | / CPython spawn |",
  "|---|---|---|---|---|---|---|---|",
  ...rows.map((x) =>
    `| ${x.runtime} | ${x.method} | ${f(x.notebook)} | ${r(x.notebook / anchors.fork.notebook)} | `
    + `${f(x.floor)} | ${f(x.contended)} | ${r(x.contended / anchors.fork.contended)} | ${
      r(x.contended / anchors.spawn.contended)
    } |`
  ),
  "",
];
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/sync.md", lines.join("\n"));
console.log("\n" + lines.join("\n"));
