#!/usr/bin/env zx
// The whole test suite: formatting, types, then the executable spec on Deno, Bun and the Node LTS
// lines 20 (tsx, under c8 coverage), 22 (tsx) and 24 (no loader: its own type stripping). Ends with
// one line "N passed, N failed" summing every runtime. `npm test -- cluster` runs the cluster lane
// (needs redis-server). `npm test -- node` runs the three Node
// lanes, `-- node20` (`node22`, `node24`) one of them, `-- arm64` the arm64 lane (scripts/arm64.mjs:
// Node for arm64 under qemu-user-static, which .ci/run installs; without it the default run says
// plainly that it skipped the lane). A lane with failures has its failure reports printed again
// before the summary, so that the end of a log says why, not only which.
import { readdirSync } from "node:fs";
import { $, cd, chalk } from "zx";
import { NODES, ROOT } from "./runtimes.mjs";

cd(ROOT);
$.verbose = false;
const specs = readdirSync("spec").filter((f) => f.endsWith(".test.ts")).map((f) => `spec/${f}`);
const only = process.argv.slice(3).filter((a) => !a.startsWith("-"));
const rows = [];
const skipped = [];
/** Each failed lane's failure reports, printed again before the summary (a CI log's tail). */
const failures = [];
const MAX_FAILURE_LINES = 200;

/**
 * The failure reports in a runner's output: node:test's list after "failing tests:", Deno's
 * "ERRORS" section, the lines before each of Bun's "(fail)"; else the output's last lines.
 */
function failureReport(text) {
  const lines = text.split("\n");
  const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
  const node = plain.findIndex((l) => l.startsWith("✖ failing tests:"));
  if (node >= 0) return lines.slice(node);
  const deno = plain.findIndex((l) => l.trim() === "ERRORS");
  if (deno >= 0) return lines.slice(deno);
  const bun = plain.flatMap((l, i) => (l.startsWith("(fail) ") ? [i] : []));
  if (bun.length) {
    return bun.flatMap((i) => [...lines.slice(Math.max(0, i - 30), i + 1), ""]);
  }
  return lines.slice(-60);
}

async function step(name, command, parse) {
  console.log(chalk.bold(`\n── ${name}`));
  const t0 = performance.now();
  const out = await command().nothrow();
  const seconds = (performance.now() - t0) / 1000;
  const text = out.stdout + out.stderr;
  const counts = parse(text, out.exitCode);
  // A runner that failed without a count of failures still counts as one failure.
  if (out.exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  rows.push({ name, seconds, ...counts });
  if (counts.failed > 0) failures.push({ name, lines: failureReport(text) });
  console.log(
    `${name}: ${counts.passed} passed, ${counts.failed} failed (${seconds.toFixed(0)} s)`,
  );
}

const check = (_text, code) => ({ passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1 });
const num = (re, text) => Number(re.exec(text)?.[1] ?? 0);
/**
 * Deno's counts, from its summary line ("ok | 639 passed | 1 failed | ..."): not from any
 * "N failed" in the output (a test's message may say "process 4206649 failed").
 */
const denoCounts = (t) => ({
  passed: num(/\| (\d+) passed \|/, t),
  failed: num(/\| \d+ passed \| (\d+) failed/, t),
});
const live = (run) => () => {
  const p = run();
  p.stdout.pipe(process.stdout);
  p.stderr.pipe(process.stderr);
  return p;
};

if (!only.length || only.includes("lint")) {
  await step("format (dprint check)", live(() => $`dprint check`), check);
  await step("layers (scripts/layers.mjs)", live(() => $`node scripts/layers.mjs`), check);
  await step(
    "types (deno check, tsc)",
    live(() => $`deno check mod.ts src/entry spec scripts && tsc -p tsconfig.json`),
    check,
  );
}
if (!only.length || only.includes("deno")) {
  await step("deno", live(() => $`deno test -A --no-check ${specs}`), denoCounts);
}
if (!only.length || only.includes("bun")) {
  await step("bun", live(() => $`bun test ${specs.map((s) => `./${s}`)}`), (t) => ({
    passed: num(/^\s*(\d+) pass$/m, t),
    failed: num(/^\s*(\d+) fail$/m, t),
  }));
}
// Node 20 runs under c8: coverage of src/ and mod.ts, as the one Node lane that measures it.
for (const [lane, { bin, loader }] of Object.entries(NODES)) {
  if (only.length && !only.includes("node") && !only.includes(lane)) continue;
  const version = (await $`${bin} --version`).stdout.trim();
  const coverage = lane === "node20";
  const name = `node ${version} (${loader.length ? "tsx" : "no loader"}${coverage ? ", c8" : ""})`;
  const run = [bin, ...loader, "--test", "--test-reporter=spec", ...specs];
  await step(
    name,
    live(() =>
      coverage
        ? $`c8 --reporter=text-summary --include=src/** --include=mod.ts ${run}`
        : $`${run}`
    ),
    (t) => ({ passed: num(/ℹ pass (\d+)/, t), failed: num(/ℹ fail (\d+)/, t) }),
  );
}
// cluster: ClusterExecutor and `multiproc worker` against a real redis-server (spec/cluster/, each
// file starts and stops its own), on Deno, Bun and Node 20 + tsx; skipped, and said so, without
// redis-server (Debian's package: .ci/run installs it).
const clusterSpecs = readdirSync("spec/cluster").filter((f) => f.endsWith(".test.ts"))
  .map((f) => `spec/cluster/${f}`);
const wantCluster = !only.length || only.includes("cluster");
const haveRedis = wantCluster && (await $`redis-server --version`.nothrow()).exitCode === 0;
if (wantCluster && !haveRedis) {
  skipped.push(
    "cluster (deno, bun, node): redis-server is not installed (apt-get install -y redis-server; "
      + ".ci/run installs it)",
  );
} else if (wantCluster) {
  await step("cluster deno", live(() => $`deno test -A --no-check ${clusterSpecs}`), denoCounts);
  await step("cluster bun", live(() => $`bun test ${clusterSpecs.map((s) => `./${s}`)}`), (t) => ({
    passed: num(/^\s*(\d+) pass$/m, t),
    failed: num(/^\s*(\d+) fail$/m, t),
  }));
  const { bin, loader } = NODES.node20;
  await step(
    "cluster node 20 (tsx)",
    live(() => $`${bin} ${loader} --test --test-reporter=spec ${clusterSpecs}`),
    (t) => ({ passed: num(/ℹ pass (\d+)/, t), failed: num(/ℹ fail (\d+)/, t) }),
  );
}
// arm64: Node 24 for linux-arm64 under qemu-user-static, on the platform and notebook spec
// (~2 min), where the machine has qemu and arm64's libc (else skipped, unless asked for by name).
const arm64Check = !only.length ? await $`zx scripts/arm64.mjs --check`.nothrow() : null;
if (arm64Check && arm64Check.exitCode !== 0) {
  skipped.push(`node arm64 (qemu): ${(arm64Check.stderr || arm64Check.stdout).trim()}`);
} else if (!only.length || only.includes("arm64")) {
  await step("node arm64 (qemu)", live(() => $`zx scripts/arm64.mjs`), (t) => ({
    passed: num(/ℹ pass (\d+)/, t),
    failed: num(/ℹ fail (\d+)/, t),
  }));
}

const passed = rows.reduce((n, r) => n + r.passed, 0);
const failed = rows.reduce((n, r) => n + r.failed, 0);
for (const { name, lines } of failures) {
  console.log(chalk.bold(`\n── failures: ${name} (as above, in its output)`));
  const shown = lines.slice(0, MAX_FAILURE_LINES);
  console.log(shown.join("\n"));
  if (lines.length > shown.length) {
    console.log(`[${lines.length - shown.length} more lines: in the lane's output above]`);
  }
}
console.log(chalk.bold("\n── summary"));
for (const r of rows) {
  console.log(
    `${r.name.padEnd(32)} ${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(0)} s)`,
  );
}
for (const s of skipped) console.log(`skipped: ${s}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
