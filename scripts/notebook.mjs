#!/usr/bin/env zx
// The main job: the notebook's scenarios, printed like the notebook, on Deno, Bun and Node.
// `npm start -- process` (or `thread`, `forkserver`) picks a start method; each runtime's default
// otherwise.
import { $, cd, chalk } from "zx";
import { ROOT, RUN, RUNTIMES } from "./runtimes.mjs";

cd(ROOT);
const method = process.argv.slice(3).find((a) => ["thread", "process", "forkserver"].includes(a));
const DEFAULT = { deno: "thread", bun: "process", node: "process" };
let failed = 0;
for (const runtime of RUNTIMES) {
  console.log(chalk.bold(`\n═══ ${runtime} (start method: ${method ?? DEFAULT[runtime]}) ═══\n`));
  const [cmd, ...pre] = RUN[runtime];
  const r = await $({ stdio: "inherit", nothrow: true })`${cmd} ${pre} examples/notebook.ts ${
    method ?? []
  }`;
  if (r.exitCode !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
