#!/usr/bin/env zx
// Child start latency — creation to the child's first message, median of N — per runtime and
// start method, with the library and with a bare worker or child of the same runtime, and
// CPython's multiprocessing (spawn and fork) in the same run. Then a TypeScript program on each
// Node LTS line as its users run one — Node 20 and 22 under tsx, Node 24 with its own type
// stripping — against the built package: its children import the TypeScript module to find the
// target, and the bare comparison runs under the same loader. Writes bench/results/start.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import { ENTRY, NODES, ROOT, runFixture, runJson, RUNTIMES } from "./runtimes.mjs";

cd(ROOT);
const N = Number(process.env.BENCH_N ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Node and Bun users run the built package (runtimes.mjs ENTRY): build dist/ first.
await $`zx scripts/build.mjs`;

const rows = [];
for (const runtime of RUNTIMES) {
  for (const method of ["thread", "process"]) {
    const lib = median(await runFixture(runtime, "start_lib.mjs", method, N));
    const bare = median(await runFixture(runtime, "start_bare.mjs", method, N));
    rows.push({ runtime, method, lib, bare, ratio: lib / bare });
    console.log(`${runtime} ${method}: library ${lib.toFixed(1)} ms, bare ${bare.toFixed(1)} ms`);
  }
}
for (const [lane, { bin, loader }] of Object.entries(NODES)) {
  const runtime = `${lane} ${loader.length ? "+ tsx" : "(type stripping)"}, TypeScript program`;
  const env = { ...process.env, MULTIPROC_ENTRY: ENTRY.node };
  for (const method of ["thread", "process"]) {
    const fixture = (name) =>
      runJson([bin, ...loader, `bench/fixtures/${name}`, method, String(N)], env);
    const lib = median(await fixture("start_lib_ts.ts"));
    const bare = median(await fixture("start_bare.mjs"));
    rows.push({ runtime, method, lib, bare, ratio: lib / bare });
    console.log(`${runtime} ${method}: library ${lib.toFixed(1)} ms, bare ${bare.toFixed(1)} ms`);
  }
}
const py = await runJson(["python3", "bench/fixtures/start_cpython.py", String(N)]);
const spawn = median(py.spawn);
const fork = median(py.fork);

const lines = [
  `# Child start latency (median of ${N}, ms) — ${new Date().toISOString()}`,
  "",
  `CPython ${(await $`python3 --version`).stdout.trim()}: spawn ${spawn.toFixed(1)} ms, fork ${
    fork.toFixed(1)
  } ms.`,
  "",
  "| runtime | method | multiproc | bare | multiproc / bare | multiproc / CPython spawn | multiproc / CPython fork |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) =>
    `| ${r.runtime} | ${r.method} | ${r.lib.toFixed(1)} | ${r.bare.toFixed(1)} | ${
      r.ratio.toFixed(2)
    } | ${(r.lib / spawn).toFixed(2)} | ${(r.lib / fork).toFixed(2)} |`
  ),
  "",
];
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/start.md", lines.join("\n"));
console.log("\n" + lines.join("\n"));
