/** Deno: a "process" child is started with the parent's own permissions and no more. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "./helpers.ts";

if (RUNTIME === "deno") {
  test("Deno process children get exactly the parent's permissions", () => {
    const script = fileURLToPath(
      new URL("./fixtures/scripts/deno_permissions.ts", import.meta.url),
    );
    const r = spawnSync(process.execPath, [
      "run",
      "--allow-read",
      "--allow-run",
      "--allow-env=HOME",
      script,
    ], { encoding: "utf8" });
    assert.match(r.stdout, /exitCode=0/, r.stderr);
    assert.match(
      r.stdout,
      /PERMS read=granted run=granted write=prompt net=prompt env=prompt envHOME=granted/,
    );
  });
}
