#!/usr/bin/env zx
// Cluster throughput: ClusterExecutor with WORKERS `multiproc worker` processes against Dask
// distributed (a LocalCluster of WORKERS processes, client.submit/client.map) and bare BullMQ (a
// hand-written Queue + WORKERS Worker processes, no library), all in this run on a redis-server
// this script starts (free loopback port, temporary directory, no persistence) and stops.
// Measured: N_SUBMIT tiny tasks through submit, N_MAP items through map in chunks of CHUNK, and
// the speedup of N_CPU busy loops of ~CPU_MS ms over running them serially. The library runs
// from dist/ with Node (client and workers), then with Bun. Environment overrides: WORKERS,
// N_SUBMIT, N_MAP, CHUNK, N_CPU, CPU_MS, REPEAT (library and bare BullMQ runs, median; default
// 3), CONCURRENCY (the tiny-task workers' --concurrency; default 16, as the bare BullMQ anchor's
// Workers). Writes bench/results/cluster.md.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { $, cd } from "zx";
import { cpuSeconds, freePort, start, startRedis, stop } from "./processes.mjs";
import { quietGate } from "./quiet.mjs";
import { ENTRY, JS, ROOT } from "./runtimes.mjs";

cd(ROOT);
await $`zx scripts/build.mjs`;

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const P = {
  WORKERS: num("WORKERS", 2),
  N_SUBMIT: num("N_SUBMIT", 2000),
  N_MAP: num("N_MAP", 100_000),
  CHUNK: num("CHUNK", 1000),
  N_CPU: num("N_CPU", 8),
  CPU_MS: num("CPU_MS", 100),
};
const REPEAT = num("REPEAT", 3);
const CONCURRENCY = num("CONCURRENCY", 16);
/** The tiny-task workers' --processes (their pool's children); unset: as many as CONCURRENCY. */
const PROCESSES = process.env.PROCESSES;
const PARAMS = [P.WORKERS, P.N_SUBMIT, P.N_MAP, P.CHUNK, P.N_CPU, P.CPU_MS].map(String);
const RUN_TIMEOUT = "90s";
const load0 = loadavg()[0];
// Each measure starts on idle CPUs (the one before it may still be ending: quiet.mjs).
const quiet = quietGate();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** `text` in lines of at most `width` characters. */
function wrap(text, width = 100) {
  const lines = [""];
  for (const word of text.split(" ")) {
    const line = lines.at(-1);
    if (line && line.length + 1 + word.length > width) lines.push(word);
    else lines[lines.length - 1] = line ? `${line} ${word}` : word;
  }
  return lines;
}
const lastJson = (stdout) => JSON.parse(stdout.trim().split("\n").pop());

/**
 * Per task (by the name the workers' logs give it: its export), the worker-side times (ms) of its
 * jobs, from the workers' logs.
 */
function jobTimes(logs) {
  const byTask = new Map();
  for (const log of logs) {
    const what = new Map();
    for (const line of readFileSync(log, "utf8").split("\n")) {
      let m = /^job (\S+) started: (.*)$/.exec(line);
      if (m) {
        what.set(m[1], m[2].replace(/ \(.*\)$/, ""));
        continue;
      }
      m = /^job (\S+) finished in ([\d.]+) ms$/.exec(line);
      if (m && what.has(m[1])) {
        const name = what.get(m[1]);
        if (!byTask.has(name)) byTask.set(name, { times: [], byLog: new Map() });
        const t = byTask.get(name);
        t.times.push(Number(m[2]));
        t.byLog.set(log, (t.byLog.get(log) ?? 0) + 1);
      }
    }
  }
  return byTask;
}

/**
 * How the timed busy loops spread over the CPU workers: per client run, its last `nCpu` jobs on
 * the CPU queue (job ids are `<client>-<n>`, n counting up in submit order; the jobs before
 * them are the run's warm-up: its executor's first task and 4 short loops, which one worker
 * often takes almost all of before the other wakes). One row per run: the count per log.
 */
function cpuSplits(logs, nCpu) {
  const runs = new Map(); // client -> [{ n, log }]
  logs.forEach((log, i) => {
    for (const line of readFileSync(log, "utf8").split("\n")) {
      const m = /^job (\S+)-(\d+) finished in /.exec(line);
      if (!m) continue;
      if (!runs.has(m[1])) runs.set(m[1], []);
      runs.get(m[1]).push({ n: Number(m[2]), log: i });
    }
  });
  const count = (jobs) => logs.map((_, i) => jobs.filter((j) => j.log === i).length);
  return [...runs.values()].map((jobs) => {
    jobs.sort((a, b) => a.n - b.n);
    return { timed: count(jobs.slice(-nCpu)), warm: count(jobs.slice(0, -nCpu)) };
  });
}

/** Per key, the median of `runs`' values. */
const medianOf = (runs) =>
  Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((x) => x[k]))]));

/** REPEAT runs of the hand-written BullMQ fixture (client and forked workers) on `runtime`. */
async function bareBullmq(url, runtime) {
  const runs = [];
  for (let r = 0; r < REPEAT; r++) {
    const argv = [...JS[runtime], "bench/fixtures/cluster_bullmq.mjs", url, ...PARAMS];
    await quiet.wait();
    runs.push(lastJson((await $`${argv}`.timeout(RUN_TIMEOUT)).stdout));
    console.log(`bare BullMQ on ${runtime}: ${JSON.stringify(runs.at(-1))}`);
  }
  return runs;
}

const tmp = mkdtempSync(join(tmpdir(), "bench-cluster-"));
const started = [];
let redis;
const results = {};
let failed = false;
try {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  redis = await startRedis(port, tmp);
  const redisVersion = (await $`redis-server --version`).stdout.match(/v=(\S+)/)?.[1];
  console.log(`redis-server ${redisVersion} on ${url}`);

  await quiet.wait();
  const dask = lastJson(
    (await $`/usr/bin/python3 bench/fixtures/cluster_dask.py ${PARAMS}`.timeout("120s")).stdout,
  );
  console.log(`Dask: ${JSON.stringify(dask)}`);

  const bareRuns = await bareBullmq(url, "node");
  const bare = medianOf(bareRuns);
  // The same hand-written BullMQ on Bun (its client and its forked workers): what Bun's runtime
  // allows on this machine, beside the library's Bun row.
  const bareBunRuns = await bareBullmq(url, "bun");
  const bareBun = medianOf(bareBunRuns);

  for (const runtime of ["node", "bun"]) {
    const env = { ...process.env, MULTIPROC_ENTRY: ENTRY[runtime] };
    const queue = `bench-${runtime}-${process.pid}`;
    const cpuQueue = `${queue}-cpu`;
    const workers = [];
    const worker = (q, concurrency, name) => {
      const child = start(
        [
          ...JS[runtime],
          "dist/cli.js",
          "worker",
          "--connection",
          url,
          "--queue",
          q,
          "--root",
          ROOT,
          "--concurrency",
          String(concurrency),
          ...(PROCESSES && concurrency > 1 ? ["--processes", PROCESSES] : []),
          "--method",
          "process",
        ],
        join(tmp, `${runtime}-${name}.log`),
        env,
      );
      started.push(child);
      workers.push(child);
    };
    for (let i = 0; i < P.WORKERS; i++) {
      worker(queue, CONCURRENCY, `tiny${i}`);
      worker(cpuQueue, 1, `cpu${i}`);
    }
    for (const w of workers) {
      for (let i = 0; !readFileSync(w.log, "utf8").includes("connected:"); i++) {
        if (i > 600 || w.exitCode !== null) {
          throw new Error(`${runtime} worker did not connect: ${readFileSync(w.log, "utf8")}`);
        }
        await sleep(50);
      }
    }
    const before = workers.map((w) => cpuSeconds(w.pid));
    const redisBefore = cpuSeconds(redis.pid).own;
    const runs = [];
    for (let r = 0; r < REPEAT; r++) {
      const argv = [
        ...JS[runtime],
        "bench/fixtures/cluster_lib.mjs",
        url,
        queue,
        cpuQueue,
        ...PARAMS.slice(1),
      ];
      await quiet.wait();
      runs.push(lastJson((await $({ env })`${argv}`.timeout(RUN_TIMEOUT)).stdout));
      console.log(`multiproc ${runtime}: ${JSON.stringify(runs.at(-1))}`);
    }
    const after = workers.map((w) => cpuSeconds(w.pid));
    const redisCpu = cpuSeconds(redis.pid).own - redisBefore;
    await Promise.all(workers.map((w) => stop(w)));
    const cpuOf = (side, pick) =>
      workers.reduce((s, _, i) => (pick(i) ? s + after[i][side] - before[i][side] : s), 0);
    const times = jobTimes(workers.map((w) => w.log));
    const splits = cpuSplits(workers.filter((_, i) => i % 2 === 1).map((w) => w.log), P.N_CPU);
    results[runtime] = {
      ...medianOf(runs),
      version: runtime === "node" ? process.version : (await $`bun --version`).stdout.trim(),
      clientCpu: runs.reduce((s, x) => s + x.client_cpu_s, 0),
      tinyWorkerCpu: cpuOf("own", (i) => i % 2 === 0),
      tinyChildCpu: cpuOf("children", (i) => i % 2 === 0),
      redisCpu,
      times,
      splits,
    };
    const exits = workers.map((w) => w.exitCode ?? w.signalCode);
    if (exits.some((e) => e !== 0)) console.log(`${runtime} workers' exits: ${exits.join(", ")}`);
  }

  // The table.
  const k = (x) => (x >= 10_000 ? `${Math.round(x / 1000)}k/s` : `${Math.round(x)}/s`);
  const x = (v) => `${v.toFixed(2)}×`;
  const mark = (ok) => (ok ? " ✓" : " ✗");
  const speedTarget = 0.9 * P.WORKERS;
  const row = (name, r, ours) => {
    if (!ours) {
      return `| ${name} | ${k(r.submit_first_per_s)} | — | ${k(r.submit_per_s)} | — | — | ${
        k(r.map_first_per_s)
      } | — | ${k(r.map_chunked_per_s)} | — | — | ${r.cpu_speedup.toFixed(2)} |`;
    }
    const s = r.submit_per_s / dask.submit_per_s;
    const m = r.map_chunked_per_s / dask.map_chunked_per_s;
    const sf = bare.submit_first_per_s / r.submit_first_per_s;
    const os = bare.submit_per_s / r.submit_per_s;
    const mf = bare.map_first_per_s / r.map_first_per_s;
    const om = bare.map_chunked_per_s / r.map_chunked_per_s;
    return `| ${name} | ${k(r.submit_first_per_s)} | ${x(sf)} | ${k(r.submit_per_s)} | ${x(s)}${
      mark(s >= 1)
    } | ${x(os)}${mark(os <= 1.3)} | ${k(r.map_first_per_s)} | ${x(mf)} | ${
      k(r.map_chunked_per_s)
    } | ${x(m)}${mark(m >= 5)} | ${x(om)}${mark(om <= 1.3)} | ${r.cpu_speedup.toFixed(2)}${
      mark(r.cpu_speedup >= speedTarget)
    } |`;
  };
  const ms = (v) => (v === undefined ? "—" : `${v.toFixed(1)} ms`);
  const jobLine = (runtime) => {
    const r = results[runtime];
    const t = (name) => r.times.get(name)?.times ?? [];
    const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
    return `- ${runtime}: a tiny submit job takes ${ms(median(t("twice")))} in its worker `
      + `(median; p90 ${ms(p90(t("twice")))}), from BullMQ handing it over to its result, `
      + `a map chunk ${ms(median(t("twiceInMap")))}, a busy loop ${ms(median(t("burn")))}; `
      + `the ${P.N_CPU} timed busy loops per CPU worker: ${
        r.splits.map((x) => x.timed.join("/")).join(", ")
      } (per run; warm-up jobs apart: ${r.splits.map((x) => x.warm.join("/")).join(", ")}). `
      + `CPU seconds over the ${REPEAT} `
      + `runs: client ${r.clientCpu.toFixed(1)}, tiny-task workers' main processes `
      + `${r.tinyWorkerCpu.toFixed(1)}, their pool children ${r.tinyChildCpu.toFixed(1)}, `
      + `redis-server ${r.redisCpu.toFixed(1)}.`;
  };
  const lines = [
    `# Cluster throughput — ${new Date().toISOString()}`,
    "",
    ...wrap(
      `${P.WORKERS} workers on one machine of ${cpus().length} cores, against a local `
        + `redis-server ${redisVersion} (loopback, no persistence). Submit: ${P.N_SUBMIT} tiny `
        + "tasks (x => x * 2) issued at once, then awaited (tasks/s, first submit to last "
        + `result). Map: ${P.N_MAP} items in chunks of ${P.CHUNK} (items/s), the results read in `
        + "input order by the library (`for await`), collected in completion order by bare "
        + "BullMQ. Of each, a client's first round is timed apart (first: its code still cold), "
        + "then the median of 3 rounds. CPU speedup: "
        + `${P.N_CPU} busy loops of ~${P.CPU_MS} ms each, serially in the client, then on the `
        + "cluster (serial time / cluster time), both warm: the client's loop by its "
        + "calibration, the workers' by one untimed round of the same loops on the cluster "
        + "just before (on every side). The library: a `ClusterExecutor` (client) and "
        + "`multiproc worker --method process` processes, from dist/: "
        + `${P.WORKERS} with \`--concurrency ${CONCURRENCY}\` for the tiny tasks, `
        + `${P.WORKERS} with \`--concurrency 1\` on a second queue for the busy loops (one at `
        + "a time per worker, as a fair speedup needs). Anchors in the same run: Dask "
        + `distributed (LocalCluster, ${P.WORKERS} processes × 1 thread; client.submit, `
        + "client.map over chunks; Debian's /usr/bin/python3) and bare BullMQ on Node and on Bun "
        + "(Queue + Worker processes written by hand, concurrency 16 for tiny jobs and 1 for busy loops; "
        + "queue.add, queue.addBulk; results from QueueEvents). Library and bare BullMQ: median "
        + `of ${REPEAT} runs; Dask: one run; each run warms up first. Targets (on the medians; the `
        + "first rounds are shown beside them): submit ≥ Dask, map ≥ 5 × Dask, overhead over bare "
        + "BullMQ (bare rate / ours) ≤ 1.3×, CPU speedup ≥ "
        + `0.9 × workers = ${speedTarget.toFixed(1)}. Load average at the start: `
        + `${load0.toFixed(2)}; ${quiet.summary()} (each measure waits up to 30 s for 90%).`,
    ),
    "",
    `Anchors: Dask ${dask.dask} on Python ${dask.python} (plain client.map, no chunks: ${
      k(dask.map_plain_per_s)
    }; CPU serial ${dask.serial_s} s, cluster ${dask.cluster_s} s); BullMQ ${
      JSON.parse(readFileSync("node_modules/bullmq/package.json", "utf8")).version
    } on Node ${process.version} (CPU serial ${bare.serial_s} s, cluster ${bare.cluster_s} s); the `
    + `same on Bun (its row: what Bun's runtime allows here), CPU speedup in its runs ${
      bareBunRuns.map((x) => x.cpu_speedup.toFixed(2)).join(", ")
    }. The "bare BullMQ / ours" columns compare with bare BullMQ on Node (the target's anchor); `
    + `against bare BullMQ on Bun, the library's Bun row is at ${
      x(bareBun.submit_per_s / results.bun.submit_per_s)
    } (submit) and ${x(bareBun.map_chunked_per_s / results.bun.map_chunked_per_s)} (map).`,
    "",
    "| | submit, first | bare BullMQ / ours | submit | vs Dask (≥ 1×) | bare BullMQ / ours "
    + "(≤ 1.3×) | map, first | bare BullMQ / ours | map, chunks of "
    + P.CHUNK
    + " | vs Dask (≥ 5×) | bare BullMQ / ours (≤ 1.3×) | CPU speedup (≥ "
    + speedTarget.toFixed(1)
    + ") |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    row("Dask distributed", dask, false),
    row("bare BullMQ (Node)", bare, false),
    row("bare BullMQ (Bun)", bareBun, false),
    row(`multiproc, Node ${results.node.version}`, results.node, true),
    row(`multiproc, Bun ${results.bun.version}`, results.bun, true),
    "",
    "Where the library's time goes (from the workers' per-job log lines and /proc):",
    "",
    ...wrap(jobLine("node"), 98).map((l, i) => (i ? `  ${l}` : l)),
    ...wrap(jobLine("bun"), 98).map((l, i) => (i ? `  ${l}` : l)),
    "",
  ];
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/cluster.md", lines.join("\n"));
  console.log("\n" + lines.join("\n"));
} catch (error) {
  failed = true;
  console.log(`failed: the logs are kept in ${tmp}`);
  throw error;
} finally {
  await Promise.all(started.map((w) => stop(w)));
  if (redis) await stop(redis);
  if (!failed && existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
