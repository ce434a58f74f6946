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

  test("Deno process children get a partial read grant, also run from a folder outside it", () => {
    const script = fileURLToPath(
      new URL("./fixtures/scripts/deno_permissions.ts", import.meta.url),
    );
    const root = fileURLToPath(new URL("..", import.meta.url));
    // Its reads outside the grant (the working directory "/") make Deno answer "denied" for
    // read, where it said "prompt": the child used to get no --allow-read= flag and fail.
    const r = spawnSync(process.execPath, [
      "run",
      `--allow-read=${root}`,
      "--allow-run",
      "--allow-env=HOME",
      script,
    ], { encoding: "utf8", cwd: "/" });
    assert.match(r.stdout, /exitCode=0/, r.stderr);
    assert.match(r.stdout, /PERMS read=(prompt|denied) run=granted write=prompt/, r.stderr);
  });

  test("Deno without --allow-net: new Listener on TCP throws the permission error, Client rejects with it", () => {
    const script = fileURLToPath(new URL("./fixtures/scripts/deno_no_net.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["run", "--allow-read", "--allow-env", script], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^refused: NotCapable: Requires net access to "127\.0\.0\.1:0".*--allow-net/m,
    );
    // Client(), too, rejects with Deno's words alone (no hint that nobody listens there).
    assert.match(
      r.stdout,
      /^client: Client\(\): cannot connect to 127\.0\.0\.1:9: Requires net .*flag$/m,
    );
  });
}
