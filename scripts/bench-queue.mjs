#!/usr/bin/env zx
// Message passing: items per second through a Queue from one child to the parent, and Pipe round
// trips per second, per runtime × start method, against CPython's multiprocessing.Queue and Pipe
// (fork and spawn) in the same run. Writes bench/results/queue.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import { ROOT, runFixture, runJson, RUNTIMES } from "./runtimes.mjs";

cd(ROOT);
await $`zx scripts/build.mjs`;
const k = (x) => `${Math.round(x / 1000)}k/s`;

const py = await runJson(["python3", "bench/fixtures/queue_cpython.py"]);
for (const m of ["fork", "spawn"]) {
  console.log(`CPython ${m}: queue ${k(py[m].queue)}, pipe ${k(py[m].pipe)}`);
}
const best = {
  queue: Math.max(py.fork.queue, py.spawn.queue),
  pipe: Math.max(py.fork.pipe, py.spawn.pipe),
};
const rows = [];
for (const runtime of RUNTIMES) {
  for (const method of ["thread", "process"]) {
    const r = await runFixture(runtime, "queue_lib.mjs", method);
    rows.push({ runtime, method, ...r });
    console.log(`${runtime} ${method}: queue ${k(r.queue)}, pipe ${k(r.pipe)}`);
  }
}
const x = (a, b) => `${(a / b).toFixed(1)}×`;
const lines = [
  `# Message passing (median of 3) — ${new Date().toISOString()}`,
  "",
  "Queue: 100000 small items put by one child, taken by the parent (items/s). Pipe: 20000 round",
  "trips, the parent sends and a child echoes (round trips/s). Ratios against the faster of",
  "CPython's fork and spawn. Target: at least 3× CPython on each.",
  "",
  `Anchors: ${(await $`python3 --version`).stdout.trim()} multiprocessing.Queue fork ${
    k(py.fork.queue)
  } / spawn ${k(py.spawn.queue)}; Pipe fork ${k(py.fork.pipe)} / spawn ${k(py.spawn.pipe)}.`,
  "",
  "| runtime | method | Queue | vs CPython | Pipe round trips | vs CPython |",
  "|---|---|---|---|---|---|",
  ...rows.map((r) =>
    `| ${r.runtime} | ${r.method} | ${k(r.queue)} | ${x(r.queue, best.queue)} | ${k(r.pipe)} | ${
      x(r.pipe, best.pipe)
    } |`
  ),
  "",
];
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/queue.md", lines.join("\n"));
console.log("\n" + lines.join("\n"));
