/**
 * A program started with a preload on the command line (`bun --preload ./x.ts`, `node --import
 * ./x.ts`): its children, process and thread, run it too, as they load modules as the parent
 * does. Bun passed none on before (bun_flags.ts); Node passes its loader flags (node_loader.ts).
 * The path is relative, to the folder the program starts in (not the script's).
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ALL_METHODS, runCommand, RUNTIME, scriptCommand } from "./helpers.ts";

const MARK = fileURLToPath(new URL("./fixtures/scripts/preload_mark.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

for (const method of ALL_METHODS) {
  test(`a preload on the command line runs in every child [${method}]`, {
    skip: RUNTIME === "deno" ? "Deno has no preload flag" : false,
  }, async () => {
    const [cmd, argv] = scriptCommand("preload.ts", [method]);
    const flag = RUNTIME === "bun" ? "--preload" : "--import";
    // From the checkout's root: the path is relative to it, not to the script's folder.
    const r = await runCommand(cmd, [flag, `./${relative(ROOT, MARK)}`, ...argv], { cwd: ROOT });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(got, { parent: "yes", pool: "yes", process: "yes" }, r.stderr);
  });
}
