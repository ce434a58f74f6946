/**
 * The npm package end to end: `npm pack`, then in temporary projects `npm install` and
 * `bun add` of the tarball, and a small program run against the installed package by Node and
 * by Bun under both start methods. Runs once, in the Node job (it builds and installs).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { METHODS, RUNTIME, tempDir } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const APP = fileURLToPath(new URL("./fixtures/package_app.mjs", import.meta.url));

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
}

test("npm pack, then npm install and bun add of the tarball, run with Node and Bun", {
  skip: RUNTIME === "node" ? false : "runs once, in the Node job",
  timeout: 600_000,
}, () => {
  const dir = tempDir();
  run("npm", ["pack", "--pack-destination", dir], ROOT);
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, "npm pack made no tarball");
  for (
    const [tool, install, runtime] of [
      ["npm", ["install", "--no-audit", "--no-fund"], "node"],
      ["bun", ["add"], "bun"],
    ] as const
  ) {
    const app = join(dir, `${tool}-app`);
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: `${tool}-app`, type: "module", private: true }),
    );
    copyFileSync(APP, join(app, "app.mjs"));
    run(tool, [...install, join(dir, tgz)], app);
    for (const method of METHODS) {
      const out = run(runtime === "node" ? process.execPath : "bun", ["app.mjs", method], app);
      assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), {
        total: 2000,
        squares: [1, 4, 9],
        codes: [0, 0],
      }, `${tool} install, ${runtime}, ${method}`);
    }
  }
});
