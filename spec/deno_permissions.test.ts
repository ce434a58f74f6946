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

  // A terminal, as `script` makes one: there Deno prompts for what is not granted (elsewhere it
  // denies), and the program waits for the user.
  const script = spawnSync("script", ["--version"]).status === 0;
  test("Deno in a terminal with --allow-read alone: the library asks for nothing", {
    skip: !script && "no `script` command (util-linux) to give the program a terminal",
  }, () => {
    const fixture = fileURLToPath(
      new URL("./fixtures/scripts/deno_no_prompt.ts", import.meta.url),
    );
    const r = spawnSync(
      "script",
      ["-qec", `${process.execPath} run --allow-read ${fixture}`, "/dev/null"],
      { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    assert.doesNotMatch(r.stdout, /requests|Allow\?/, r.stdout);
    assert.match(r.stdout, /hello bob/, r.stdout + r.stderr);
    assert.match(r.stdout, /exitCode=0/, r.stdout + r.stderr);
  });

  test("Deno: Manager() needs --allow-write and --allow-net, says so, and no --allow-env", () => {
    const fixture = fileURLToPath(new URL("./fixtures/scripts/deno_manager.ts", import.meta.url));
    const run = (...flags: string[]) =>
      spawnSync(process.execPath, ["run", ...flags, fixture], {
        encoding: "utf8",
        timeout: 30_000,
      });
    const refused = run("--allow-read");
    assert.match(
      refused.stdout,
      /^error: SyncManager\.start\(\): Deno may not make the private directory of its socket in \S+: run with --allow-write \(or --allow-write=\S+\) and --allow-net/,
      refused.stderr,
    );
    const tmp = process.env.TMPDIR || "/tmp";
    for (
      const flags of [["--allow-write", "--allow-net"], [`--allow-write=${tmp}`, "--allow-net"]]
    ) {
      const r = run("--allow-read", ...flags);
      assert.equal(r.stdout.trim(), "d=1", `${flags.join(" ")}: ${r.stdout}${r.stderr}`);
    }
  });

  test("Deno without --allow-ffi: SharedMemory says to grant it, thread objects need none", () => {
    const script = fileURLToPath(new URL("./fixtures/scripts/deno_no_ffi.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["run", "--allow-read", "--allow-env", script], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.match(r.stdout, /method=thread value=3/, r.stderr);
    assert.match(
      r.stdout,
      /refused: .*SharedMemory and ShareableList, under any start method.*--allow-ffi/,
    );
    assert.doesNotMatch(r.stdout, /or use the "thread" start method/);
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
