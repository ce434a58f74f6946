/**
 * A program given as text instead of a file (`node -e`, `node -p`, stdin, `bun -e`, `deno
 * eval`): its children run their entry, not the program again. Under `node -e` every
 * `"process"` child got the parent's `-e` and ran the program, starting a pool of its own, whose
 * children did the same (a fork bomb), and a worker thread refused to start.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { ALL_METHODS, nodeLoaderArgs, runCommand, RUNTIME } from "./helpers.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const TARGETS = new URL("./fixtures/pool_targets.ts", import.meta.url).href;

/** The program: says it runs, then maps `twice` on a pool of `method`. */
const program = (method: string) =>
  `const mp = await import(${JSON.stringify(MOD)});
  const { twice } = await import(${JSON.stringify(TARGETS)});
  console.log("program ran");
  const ex = new (mp.getContext(${JSON.stringify(method)}).ProcessPoolExecutor)({ maxWorkers: 2 });
  const got = [];
  for await (const v of ex.map(twice, [1, 2, 3])) got.push(v);
  console.log("got " + got.join(","));
  await ex.shutdown();`;

/** Each way this runtime takes a program as text: [label, argv, stdin]. */
function ways(method: string): [string, string[], string?][] {
  const code = program(method);
  if (RUNTIME === "deno") return [["deno eval", ["eval", code]]];
  if (RUNTIME === "bun") return [["bun -e", ["-e", code]]];
  const loader = nodeLoaderArgs();
  return [
    ["node -e", [...loader, "--input-type=module", "-e", code]],
    // --print takes CommonJS only: the program in an async function, its value printed at once.
    ["node -p", [...loader, "-p", `(async () => { ${code} })(), "printed"`]],
    ["node, stdin", [...loader, "--input-type=module"], code],
  ];
}

for (const method of ALL_METHODS) {
  test(`a program given as text runs once, its children their entry (${method})`, async () => {
    for (const [label, argv, stdin] of ways(method)) {
      const r = await runCommand(process.execPath, argv, { timeoutMs: 60_000, stdin });
      const where = `${label}:\n${r.stdout}\n${r.stderr}`;
      assert.equal(r.code, 0, where);
      assert.equal(r.stdout.match(/^program ran$/gm)?.length, 1, where);
      assert.match(r.stdout, /^got 2,4,6$/m, where);
    }
  });
}
