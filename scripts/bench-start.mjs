#!/usr/bin/env zx
// Child start latency — creation to the child's first message, median of N — per runtime and
// start method, with the library and with a bare worker or child of the same runtime, and
// CPython's multiprocessing (spawn and fork) in the same run. Then a TypeScript program on each
// Node LTS line as its users run one — Node 20 and 22 under tsx, Node 24 with its own type
// stripping — against the built package: its children import the TypeScript module to find the
// target, and the bare comparison runs under the same loader. Then the resident memory of an idle
// child, with the library and bare, beside CPython's (bench/fixtures/rss.mjs, rss_cpython.py).
// Writes bench/results/start.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import { ENTRY, NODES, ROOT, rowName, runFixture, runJson, RUNTIMES } from "./runtimes.mjs";

cd(ROOT);
const N = Number(process.env.BENCH_N ?? 10);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Node and Bun users run the built package (runtimes.mjs ENTRY): build dist/ first.
await $`zx scripts/build.mjs`;

/** The row name of a TypeScript program on Node lane `lane`, run with `loader`. */
const tsProgramRow = (lane, loader) =>
  `${lane} ${loader.length ? "+ tsx" : "(type stripping)"}, TypeScript program`;

/**
 * The runtimes of the rows: Deno twice, importing mod.ts (the TypeScript source, ~110 modules)
 * and the npm package's built JavaScript (a few bundled files), which a Deno project can install.
 */
const BENCHED = [...RUNTIMES, "deno-npm"];

const rows = [];
for (const runtime of BENCHED) {
  for (const method of ["thread", "process", "forkserver"]) {
    // The warm start: median of 50 (start() to the target found and about to run).
    const n = method === "forkserver" ? Math.max(N, 50) : N;
    const lib = median(await runFixture(runtime, "start_lib.mjs", method, n));
    // A bare runtime has no warm start: its "process" child is the comparison.
    const bare = median(
      await runFixture(runtime, "start_bare.mjs", method === "forkserver" ? "process" : method, N),
    );
    rows.push({ runtime: rowName(runtime), method, lib, bare, ratio: lib / bare });
    console.log(`${runtime} ${method}: library ${lib.toFixed(1)} ms, bare ${bare.toFixed(1)} ms`);
  }
}
for (const [lane, { bin, loader }] of Object.entries(NODES)) {
  const runtime = tsProgramRow(lane, loader);
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
// Resident memory of an idle child (median of 4, read 0.8 s after it runs), library and bare:
// RSS_RUNS runs of each, alternated, and the median of each figure over them (a thread row is its
// process's growth, which one collection more or less moves by megabytes).
const RSS_RUNS = 3;
const memory = [];
const mb = ({ rss, anon, files }) =>
  `${rss.toFixed(1)} MB (own ${anon.toFixed(1)}, files ${files.toFixed(1)})`;
const memoryRow = async (run) => {
  const runs = { lib: [], bare: [] };
  for (let i = 0; i < RSS_RUNS; i++) {
    for (const which of ["lib", "bare"]) runs[which].push(await run(which));
  }
  const mid = (xs) => ({
    rss: median(xs.map((x) => x.rss)),
    anon: median(xs.map((x) => x.anon)),
    files: median(xs.map((x) => x.files)),
  });
  return { lib: mid(runs.lib), bare: mid(runs.bare) };
};
for (const runtime of [...BENCHED, "node22", "node24"]) {
  for (const method of ["thread", "process"]) {
    const { lib, bare } = await memoryRow((which) => runFixture(runtime, "rss.mjs", which, method));
    memory.push({ runtime: rowName(runtime), method, lib, bare });
    console.log(`${runtime} ${method}: child RSS ${mb(lib)}, bare ${mb(bare)}`);
  }
}
// A TypeScript program's children on each Node line, with its loader (tsx on 20 and 22).
for (const [lane, { bin, loader }] of Object.entries(NODES)) {
  const runtime = tsProgramRow(lane, loader);
  const env = { ...process.env, MULTIPROC_ENTRY: ENTRY.node };
  for (const method of ["thread", "process"]) {
    const { lib, bare } = await memoryRow((which) =>
      runJson([bin, ...loader, "bench/fixtures/rss.mjs", which, method, "ts"], env)
    );
    memory.push({ runtime, method, lib, bare });
    console.log(`${runtime} ${method}: child RSS ${mb(lib)}, bare ${mb(bare)}`);
  }
}
const pyRss = await runJson(["python3", "bench/fixtures/rss_cpython.py"]);

const py = await runJson(["python3", "bench/fixtures/start_cpython.py", String(N)]);
const spawn = median(py.spawn);
const fork = median(py.fork);
const forkserver = median(py.forkserver);

const lines = [
  `# Child start latency (median of ${N}, ms) — ${new Date().toISOString()}`,
  "",
  `CPython ${(await $`python3 --version`).stdout.trim()}: spawn ${spawn.toFixed(1)} ms, fork ${
    fork.toFixed(1)
  } ms, forkserver ${forkserver.toFixed(1)} ms (start() to the child's first message).`,
  "",
  "Ours: creation to `start()` resolved (the child has found its target and runs it). The",
  "`forkserver` rows are the warm start (spares booted ahead; median of at least 50, the spares",
  "given 200 ms to boot again between starts); their bare column is the runtime's bare process",
  "child. Target (issue 14): the warm start ≤ CPython fork on every runtime. Deno runs twice:",
  "importing mod.ts (the TypeScript source, as from a URL) and the npm package's JavaScript.",
  "",
  "| runtime | method | multiproc | bare | multiproc / bare | multiproc / CPython spawn | multiproc / CPython fork |",
  "|---|---|---|---|---|---|---|",
  ...rows.map((r) =>
    `| ${r.runtime} | ${r.method} | ${r.lib.toFixed(1)} | ${r.bare.toFixed(1)} | ${
      r.ratio.toFixed(2)
    } | ${(r.lib / spawn).toFixed(2)} | ${(r.lib / fork).toFixed(2)} |`
  ),
  "",
  "## Resident memory of an idle child (MB)",
  "",
  "Four children whose target sleeps, VmRSS of /proc/<pid>/status read 0.8 s after they run",
  "(a Process's start() resolves once its child runs; a bare child says so when it runs), median",
  `of the 4, then of ${RSS_RUNS} runs; a thread child: its process's growth divided by 4. Bare: a`,
  "child or worker of the same runtime running a script that says it runs and sleeps (Node and",
  "Bun run the built package, Deno",
  "mod.ts, and the built package on its \"npm package\" rows). The TypeScript program rows: the",
  "target is in a TypeScript module, and the bare child runs a TypeScript script under the same",
  "loader (a bare Node 20 worker thread registers tsx's hooks itself, as tsx does not register",
  "them in worker threads there: a module-hooks thread per worker, ~14 MB, what TypeScript in a",
  `thread costs on Node 20). CPython ${(await $`python3 --version`).stdout.trim()}: spawn ${
    pyRss.spawn.rss.toFixed(1)
  }, fork ${pyRss.fork.rss.toFixed(1)}, forkserver ${
    pyRss.forkserver.rss.toFixed(1)
  }. Target (issue`,
  "14): ours ≤ bare + 10 MB on every row (VmRSS).",
  "",
  "Own: RssAnon, the part of VmRSS that is the child's alone. The rest is mostly the pages of the",
  "runtime's executable that the child has run, which every process of that runtime shares: in a",
  "pool of many children, each adds about its own memory, not its VmRSS. (CPython: spawn",
  `${pyRss.spawn.anon.toFixed(1)}, fork ${pyRss.fork.anon.toFixed(1)}, forkserver ${
    pyRss.forkserver.anon.toFixed(1)
  }; a forked child's pages still shared with its parent count as its own here.)`,
  "",
  "Files: the part of VmRSS in data files the child has mapped (not executables or libraries).",
  "Deno maps its cache databases (SQLite files in DENO_DIR: V8's code cache, the analysis of",
  "each module's imports) and reads them for every module it loads, so a child loading the",
  "library's modules touches more of them than a bare one. Those pages are shared with every",
  "Deno process, and how many a child touches grows with the cache's size (its history on the",
  "machine, not this library's code).",
  "",
  "| runtime | method | multiproc | bare | multiproc − bare | / CPython spawn | own: multiproc | own: bare | own: multiproc − bare | files: multiproc / bare |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...memory.map(({ runtime, method, lib, bare }) =>
    `| ${runtime} | ${method} | ${lib.rss.toFixed(1)} | ${bare.rss.toFixed(1)} | ${
      (lib.rss - bare.rss).toFixed(1)
    } | ${(lib.rss / pyRss.spawn.rss).toFixed(2)} | ${lib.anon.toFixed(1)} | ${
      bare.anon.toFixed(1)
    } | ${(lib.anon - bare.anon).toFixed(1)} | ${lib.files.toFixed(1)} / ${bare.files.toFixed(1)} |`
  ),
  "",
];
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/start.md", lines.join("\n"));
console.log("\n" + lines.join("\n"));
