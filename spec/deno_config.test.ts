/**
 * A Deno program whose bare imports its configuration maps -- a `deno.json` found beside it, an
 * `--import-map`, a `--config` elsewhere -- with the library from a checkout: its `"process"`
 * children resolve them as it does, and get its flags (`--unstable-kv`) (runtime/deno_flags.ts).
 * They used to fail ("Import "helper" not a dependency"): Deno looked for a configuration from the
 * library's entry script, and found the checkout's own. Runs in the Deno job. (The fixture is left
 * out of the checkout's type checks, which know no "mp" or "helper": it is checked here, in its own
 * configuration.)
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { ALL_METHODS, runCommand, RUNTIME, tempDir } from "./helpers.ts";

const FIXTURES = new URL("./fixtures/deno_config/", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

/** A project with app.ts and helper.ts; `map` is the import map its configuration holds. */
function project(): { dir: string; map: string } {
  const dir = tempDir();
  for (const f of ["app.ts", "helper.ts"]) copyFileSync(new URL(f, FIXTURES), join(dir, f));
  return { dir, map: JSON.stringify({ imports: { mp: MOD, helper: "./helper.ts" } }) };
}

const WAYS: { name: string; setUp(dir: string, map: string): string[]; kv?: string }[] = [
  {
    name: "deno.json beside the program",
    setUp: (dir, map) => (writeFileSync(join(dir, "deno.json"), map), []),
  },
  {
    name: "deno.json, and --unstable-kv",
    setUp: (dir, map) => (writeFileSync(join(dir, "deno.json"), map), ["--unstable-kv"]),
    kv: "function",
  },
  {
    name: "--import-map map.json",
    setUp: (dir, map) => (writeFileSync(join(dir, "map.json"), map), ["--import-map", "map.json"]),
  },
  {
    name: "--config in another folder",
    setUp: (dir, map) => {
      mkdirSync(join(dir, "config"));
      writeFileSync(join(dir, "config", "deno.json"), map.replace("./helper.ts", "../helper.ts"));
      return ["-c", "config/deno.json"];
    },
  },
];

for (const way of WAYS) {
  for (const method of ALL_METHODS) {
    test(`Deno children share the program's import map: ${way.name} [${method}]`, {
      skip: RUNTIME === "deno" ? false : "runs in the Deno job",
    }, async () => {
      const { dir, map } = project();
      const flags = way.setUp(dir, map);
      const r = await runCommand(process.execPath, ["run", "-A", ...flags, "app.ts", method], {
        cwd: dir,
      });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
      const kv = way.kv ?? "undefined";
      assert.deepEqual(got, { pool: 42, process: 8, exitCode: 0, kv }, r.stderr);
    });
  }
}

test("that program type-checks in its configuration (deno check, the library's types)", {
  skip: RUNTIME === "deno" ? false : "runs in the Deno job",
}, async () => {
  const { dir, map } = project();
  writeFileSync(join(dir, "deno.json"), map);
  const r = await runCommand(process.execPath, ["check", "app.ts"], {
    cwd: dir,
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
});
