#!/usr/bin/env zx
// Soak test (not part of `npm test`): per runtime × start method, many Process start/join cycles
// (several at a time) and many pool tasks (ProcessPoolExecutor submit and map in chunks), each
// phase in a program of its own (bench/fixtures/soak.mjs), reading the main process's open file
// descriptors, the memory files the library left (memfd segments, /dev/shm/mp_*), RSS, threads
// and child processes at the start (after a warm-up), middle and end of the phase, and once more
// after a forced garbage collection. Judges each row "flat" or "growth" and writes
// bench/results/soak.md.
//
//   zx scripts/soak.mjs [--cycles 10000] [--tasks 1000000] [--runtimes deno,bun,node]
//                       [--methods thread,process] [--phases process,pool] [--concurrency 8]
//
// Linux only (/proc). SOAK_DEBUG=1 prints what the descriptors are at each reading.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { $, argv, cd } from "zx";
import { ENTRY, ROOT, RUNTIMES } from "./runtimes.mjs";

cd(ROOT);
const list = (value, all) => {
  const names = value === undefined ? all : String(value).split(",").map((s) => s.trim());
  for (const n of names) if (!all.includes(n)) throw new Error(`unknown "${n}"; one of ${all}`);
  return names;
};
const CYCLES = Number(argv.cycles ?? 10_000);
const TASKS = Number(argv.tasks ?? 1_000_000);
const CONCURRENCY = Number(argv.concurrency ?? 8);
const runtimes = list(argv.runtimes, RUNTIMES);
const methods = list(argv.methods, ["thread", "process"]);
const phases = list(argv.phases, ["process", "pool"]);
for (const [name, n] of Object.entries({ CYCLES, TASKS, CONCURRENCY })) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name.toLowerCase()}: a positive integer`);
}

// What counts as growth (see the notes under the table).
const FD_SLACK = 4;
const THREAD_SLACK = 2;
const RSS_MB = 50;
const RSS_RATIO = 0.3;

// The fixture runs with the collector exposed, so that its last reading can force a collection.
const RUN = {
  deno: ["deno", "run", "-A", "--v8-flags=--expose-gc"],
  bun: ["bun"],
  node: ["node", "--expose-gc"],
};

// Node and Bun run the built package (runtimes.mjs ENTRY).
if (!existsSync("dist/mod.js")) await $({ stdio: "inherit" })`zx scripts/build.mjs`;

function verdict(s) {
  const issues = [];
  const peak = Math.max(s.mid.fds, s.end.fds);
  if (peak - s.start.fds > FD_SLACK) {
    const kept = s.after.fds - s.start.fds > FD_SLACK;
    issues.push(
      `fds +${peak - s.start.fds} (${
        kept ? `+${s.after.fds - s.start.fds} kept after GC` : "freed only by GC"
      })`,
    );
  } else if (s.after.fds - s.start.fds > FD_SLACK) {
    issues.push(`fds +${s.after.fds - s.start.fds} after the phase`);
  }
  const memfiles = Math.max(s.mid.memfiles, s.end.memfiles, s.after.memfiles) - s.start.memfiles;
  if (memfiles > 0) issues.push(`memfiles +${memfiles}`);
  if (s.after.shm > 0) issues.push(`${s.after.shm} named segments left: ${s.after.shmNames}`);
  const rss = s.end.rssMB - s.mid.rssMB;
  if (rss > RSS_MB || rss > RSS_RATIO * s.mid.rssMB) {
    issues.push(`RSS +${rss.toFixed(1)} MB mid→end`);
  }
  const threads = Math.max(s.mid.threads, s.end.threads) - s.start.threads;
  if (threads > THREAD_SLACK) issues.push(`threads +${threads}`);
  if (s.after.children > 0) {
    issues.push(
      `${s.after.children} children left${s.after.zombies ? ` (${s.after.zombies} zombies)` : ""}`,
    );
  }
  return issues.length ? `growth: ${issues.join("; ")}` : "flat";
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const three = (s, key) => `${s.start[key]} / ${s.mid[key]} / ${s.end[key]}`;

const rows = [];
const started = Date.now();
// Which library was measured: the commit, and whether the library's sources differ from it.
let checkout = "not a git checkout";
try {
  const commit = (await $`git rev-parse --short HEAD`.quiet()).stdout.trim();
  const dirty = (await $`git status --porcelain -- src mod.ts`.quiet()).stdout.trim() !== "";
  checkout = `commit ${commit}${dirty ? ", with uncommitted changes in src/ or mod.ts" : ""}`;
} catch {
  // no git here
}

function table() {
  const cells = (r) => {
    const s = r.samples;
    if (!s) return [...Array(8).fill("—"), `failed: ${r.error}`];
    return [
      three(s, "fds"),
      s.after.fds,
      three(s, "memfiles"),
      three(s, "rssMB"),
      s.after.rssMB,
      `${three(s, "heapMB")} / ${s.after.heapMB}`,
      three(s, "threads"),
      s.after.children,
      r.verdict,
    ];
  };
  return [
    "| runtime | method | phase | n | fds start / mid / end | fds after GC | memfiles start / mid / end | RSS MB start / mid / end | RSS MB after GC | JS heap MB start / mid / end / after GC | threads start / mid / end | children left | verdict | wall |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${[r.runtime, r.method, r.phase, r.n, ...cells(r), seconds(r.wall)].join(" | ")} |`
    ),
  ];
}

function write(done) {
  const lines = [
    `# Soak — ${new Date().toISOString()}${done ? "" : " (in progress)"}`,
    "",
    `${CYCLES} Process start/join cycles (${CONCURRENCY} at a time) and ${TASKS} pool tasks`,
    "(ProcessPoolExecutor, 2 workers; batches of tasks, half through submit(), half through",
    "map() with chunks of 100) per runtime × start method, each phase in a program of its own",
    `(bench/fixtures/soak.mjs; Node and Bun on dist/, Deno on mod.ts; ${checkout}). Readings of the main`,
    "process: start after a warm-up (the first batch of cycles; the pool's workers started), mid",
    "halfway, end after the last cycle or task (the pool still open), \"after GC\" once the pool is",
    "shut down and a garbage collection forced. fds: entries of /proc/self/fd. memfiles: the",
    "library's memfd segments (named \"multiproc\") open in the process, plus the named /dev/shm",
    "segments registered in its shared-memory tracker and still there. RSS: VmRSS. JS heap:",
    "heapUsed of memoryUsage(). threads: Threads of /proc/self/status. children left: processes",
    "whose parent is the main process, after the phase (zombies too).",
    "",
    ...table(),
    "",
    `Verdict "growth" when: fds rise more than ${FD_SLACK} above start (and whether a forced`,
    `collection gives them back); memfiles rise above start (the shared-memory tracker's registry,`,
    `made by the first process child, is already in start); RSS rises more than ${RSS_MB} MB or`,
    `${RSS_RATIO * 100}% from mid to end; threads rise more than ${THREAD_SLACK} above start; any`,
    `child is left. Total wall time ${seconds(Date.now() - started)}.`,
    "",
  ];
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/soak.md", lines.join("\n"));
  return lines;
}

for (const runtime of runtimes) {
  for (const method of methods) {
    for (const phase of phases) {
      const n = phase === "process" ? CYCLES : TASKS;
      console.log(
        `${runtime} ${method} ${phase}: ${n} ${phase === "process" ? "cycles" : "tasks"}`,
      );
      // A deadlock guard, far above the expected time.
      const timeout = 120_000 + (phase === "process" ? n * 300 : n / 5);
      const t0 = Date.now();
      const row = { runtime, method, phase, n };
      try {
        const out = await $({
          env: { ...process.env, MULTIPROC_ENTRY: ENTRY[runtime] },
          stdio: ["ignore", "pipe", "inherit"],
          timeout,
        })`${RUN[runtime]} bench/fixtures/soak.mjs ${method} ${phase} ${n} ${CONCURRENCY}`;
        const result = JSON.parse(out.stdout.trim().split("\n").pop());
        row.samples = result.samples;
        row.verdict = verdict(result.samples);
      } catch (error) {
        const e = /** @type {{exitCode?: number, signal?: string, message: string}} */ (error);
        row.error = e.signal
          ? `killed by ${e.signal} (timeout ${seconds(timeout)}?)`
          : `exit ${e.exitCode ?? "?"}`;
        console.log(`  failed: ${e.message.split("\n")[0]}`);
      }
      row.wall = Date.now() - t0;
      rows.push(row);
      console.log(`  ${row.verdict ?? row.error}, ${seconds(row.wall)}`);
      write(false);
    }
  }
}
console.log("\n" + write(true).join("\n"));
