#!/usr/bin/env zx
// The fault-injection table: runs spec/faults.test.ts `--rounds N` times (default 3) on Deno, Bun
// and each Node line, each scenario killing children at varied moments under every start method,
// and sums what the scenarios report: kills injected, hangs (a survivor past its timeout) and
// wrong results (a torn, lost-in-order or wrong item). Both must be 0. Writes
// bench/results/faults.md. Not part of `npm test` (which runs the same spec once per lane).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $, argv, cd } from "zx";
import { NODES, ROOT } from "./runtimes.mjs";

cd(ROOT);
$.verbose = false;
const rounds = Number(argv.rounds ?? 3);
const SPEC = "spec/faults.test.ts";

const lanes = {
  deno: ["deno", "test", "-A", "--no-check", SPEC],
  bun: ["bun", "test", `./${SPEC}`],
  ...Object.fromEntries(
    Object.entries(NODES).map(([name, n]) => [name, [n.bin, ...n.loader, "--test", SPEC]]),
  ),
};

const report = join(tmpdir(), `multiproc-faults-${process.pid}.jsonl`);
rmSync(report, { force: true });
const failures = [];
for (const [lane, command] of Object.entries(lanes)) {
  for (let round = 1; round <= rounds; round++) {
    const t0 = performance.now();
    const out = await $({
      env: { ...process.env, FAULTS_REPORT: report, FAULTS_LANE: lane },
    })`${command}`
      .nothrow();
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(`${lane} round ${round}: exit ${out.exitCode} (${s} s)`);
    if (out.exitCode !== 0) {
      failures.push(`${lane} round ${round}`);
      // What failed, for the table's reader: the runner's failure lines and their context.
      const lines = (out.stdout + out.stderr).split("\n");
      const at = lines.findIndex((l) => /^(✖|not ok|\(fail\)|.*FAILED)/.test(l));
      console.log(lines.slice(Math.max(0, at), at + 40).join("\n"));
    }
  }
}

const rows = new Map();
for (const line of readFileSync(report, "utf8").trim().split("\n")) {
  const r = JSON.parse(line);
  const key = `${r.scenario}\u0000${r.lane}\u0000${r.method}`;
  const row = rows.get(key) ?? { ...r, kills: 0, hangs: 0, wrong: 0, runs: 0 };
  row.kills += r.kills;
  row.hangs += r.hangs;
  row.wrong += r.wrong;
  row.runs++;
  rows.set(key, row);
}
rmSync(report, { force: true });

const table = [
  "| scenario | runtime | method | runs | kills injected | hangs | wrong results |",
  "|---|---|---|---|---|---|---|",
  ...[...rows.values()].map((r) =>
    `| ${r.scenario} | ${r.lane} | ${r.method} | ${r.runs} | ${r.kills} | ${r.hangs} | ${r.wrong} |`
  ),
];
const total = [...rows.values()].reduce(
  (t, r) => ({ kills: t.kills + r.kills, hangs: t.hangs + r.hangs, wrong: t.wrong + r.wrong }),
  { kills: 0, hangs: 0, wrong: 0 },
);
const text = [
  "# Faults",
  "",
  `\`npm run faults\` (${
    new Date().toISOString().slice(0, 10)
  }): spec/faults.test.ts ${rounds}× per`
  + " lane. A hang is a survivor that returned later than its timeout plus 500 ms of slack; a wrong"
  + " result is an item torn, missing from the middle or out of order, or a lock not taken over."
  + " A scenario reports its counts when it ends; one that failed an assertion is named under"
  + " \"Failed runs\" below, and what failed is printed by the script.",
  "",
  ...table,
  "",
  `Total: ${total.kills} kills injected, ${total.hangs} hangs, ${total.wrong} wrong results.`
  + (failures.length ? ` Failed runs: ${failures.join(", ")}.` : " Every run passed."),
  "",
].join("\n");
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/faults.md", text);
console.log(`\n${text}`);
process.exitCode = failures.length || total.hangs || total.wrong ? 1 : 0;
