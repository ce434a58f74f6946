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
  rowName,
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

function check(results, expected, what, key = "ms") {
  for (const r of results) {
    if (r.final !== expected) {
      throw new Error(`${what}: final balance ${r.final}, expected ${expected}`);
    }
  }
  return median(results.map((r) => r[key]));
}

// CPython as the notebook writes it (Value('i'): its own lock taken twice more per update) and
// its fastest equivalent (Value('i', lock=False): one lock operation per update, as ours).
const py = await runJson(["python3", "bench/fixtures/sync_cpython.py", String(RUNS)]);
const anchors = {};
for (const m of ["fork", "spawn"]) {
  const p = py[m];
  anchors[m] = {
    notebook: check(p.notebook, 90400, `CPython ${m} notebook`),
    notebookRaw: check(p.notebook_raw, 90400, `CPython ${m} notebook, lock=False`),
    contended: check(p.contended, 0, `CPython ${m} contended`),
    contendedRaw: check(p.contended_raw, 0, `CPython ${m} contended, lock=False`),
    contendedRawTotal: check(p.contended_raw, 0, `CPython ${m} contended`, "total"),
  };
  console.log(`CPython ${m}: ${JSON.stringify(anchors[m])}`);
}

// Node (and Bun) read NODE_EXTRA_CA_CERTS at every start: where it is set, process children are
// measured a second time without it (the library cannot defer it for Node 20).
const environments = [{ label: "", env: process.env }];
if (process.env[CA_VARIABLE]) {
  environments.push({ label: `, no ${CA_VARIABLE}`, env: withoutExtraCaCerts(), only: "process" });
}
const rows = [];
for (const { label, env, only } of environments) {
  // Deno twice: importing mod.ts, and the npm package's built JavaScript (runtimes.mjs).
  for (const runtime of [...RUNTIMES, "deno-npm", "node22", "node24"]) {
    if (only && (runtime.startsWith("node2") || runtime === "deno-npm")) continue;
    for (const method of ["thread", "process", "forkserver"]) {
      if (only && method !== only) continue;
      const run = (name, ...args) => runFixtureIn(env, runtime, name, method, ...args);
      const notebook = check(
        await run("sync_lib.mjs", "notebook", RUNS),
        90400,
        `${runtime} ${method} notebook`,
      );
      const results = await run("sync_lib.mjs", "contended", Math.max(1, RUNS >> 1));
      const contended = check(results, 0, `${runtime} ${method} contended`);
      const total = check(results, 0, `${runtime} ${method} contended`, "total");
      const floor = median(await run("start_bare.mjs", RUNS, "pair"));
      rows.push({
        runtime: rowName(runtime),
        method: method + label,
        notebook,
        contended,
        total,
        floor,
      });
      console.log(
        `${runtime} ${method}${label}: notebook ${notebook.toFixed(1)} ms, contended ${
          contended.toFixed(1)
        } ms (${total.toFixed(1)} ms with start), floor ${floor.toFixed(1)} ms`,
      );
    }
  }
}

const f = (x) => x.toFixed(1);
const r = (x) => x.toFixed(2);
const a = anchors.fork;
const lines = [
  `# Locks across children (median, ms) — ${new Date().toISOString()}`,
  "",
  `${(await $`python3 --version`).stdout.trim()} (fork / spawn), ms: notebook with `
  + `\`Value('i')\` ${f(a.notebook)} / ${f(anchors.spawn.notebook)}, with \`Value('i', `
  + `lock=False)\` ${f(a.notebookRaw)} / ${f(anchors.spawn.notebookRaw)}; contended with `
  + `\`Value('i')\` ${f(a.contended)} / ${f(anchors.spawn.contended)}, with \`lock=False\` `
  + `${f(a.contendedRaw)} / ${f(anchors.spawn.contendedRaw)} (start included: `
  + `${f(a.contendedRawTotal)} / ${f(anchors.spawn.contendedRawTotal)}).`,
  "",
  "Notebook: the locked cell whole (Value, Lock, two children started and joined; 100000 × +1",
  "against 10000 × −1; ends at exactly 90400). Contended: 1e6 × +1 against 1e6 × −1 under one",
  "lock, from a common start signal to the last child's end, and with start included (from",
  "before the first child is made to the last join). CPython in two forms: as the notebook",
  "writes it (`Value('i')`, whose own lock every `balance.value += 1` takes twice more) and its",
  "fastest equivalent, `Value('i', lock=False)` (one lock operation per update, as the",
  "library's loop, whose `.value` takes no lock). Ratios are ours / CPython fork's. Targets:",
  "notebook ≤ CPython fork (with `forkserver`, the warm start); contended ≤ 0.2 × CPython's",
  "fastest, start included and excluded.",
  "Floor: two bare children of the runtime (no library) started at once until both have said",
  "they are up — what the runtime itself costs before any work.",
  ...(process.env[CA_VARIABLE]
    ? [
      `This machine sets ${CA_VARIABLE}, which Node 20 parses at every start (~90 ms per`,
      "process here; Bun reads it too): \"process\" rows are repeated without it.",
    ]
    : []),
  "",
  "| runtime | method | notebook | / fork | / fork lock=False | floor | contended | / fork | / fork lock=False | with start | / fork lock=False |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map((x) =>
    `| ${x.runtime} | ${x.method} | ${f(x.notebook)} | ${r(x.notebook / a.notebook)} | `
    + `${r(x.notebook / a.notebookRaw)} | ${f(x.floor)} | ${f(x.contended)} | `
    + `${r(x.contended / a.contended)} | ${r(x.contended / a.contendedRaw)} | ${f(x.total)} | `
    + `${r(x.total / a.contendedRawTotal)} |`
  ),
  "",
];
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/sync.md", lines.join("\n"));
console.log("\n" + lines.join("\n"));
