/**
 * No named segment outlives the main process unless asked: lists /dev/shm before and after a
 * program that made segments and ended normally, by an uncaught error, by SIGTERM or SIGKILL, or
 * whose segment-making child was killed. Segments are created mode 0600.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, unlinkSync } from "node:fs";
import { test } from "node:test";
import { eventually, METHODS, runCommand, runScript, scriptCommand } from "./helpers.ts";

function segments(stdout: string): { name: string; mode: string }[] {
  return [...stdout.matchAll(/^segment (\S+) (\d+)$/gm)].map((m) => ({ name: m[1], mode: m[2] }));
}

const listShm = () => new Set(readdirSync("/dev/shm"));

/**
 * Runs the fixture in mode `how` until it has made a segment (which must exist), then sends
 * `signal` to the main process: the segment's name, and the signal it ended by.
 */
async function segmentMade(
  method: string,
  how: string,
  signal: "SIGTERM" | "SIGKILL",
): Promise<{ name: string; ended: Promise<string | null> }> {
  const [cmd, argv] = scriptCommand("shm_lifecycle.ts", [method, how]);
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  const ended = new Promise<string | null>((r) => child.on("close", (_code, sig) => r(sig)));
  let stdout = "";
  const name = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const made = segments(stdout);
      if (made.length) resolve(made[0].name);
    });
    ended.then(() => reject(new Error(`ended before making a segment:\n${stdout}`)));
  });
  assert.ok(existsSync(`/dev/shm/${name}`));
  child.kill(signal);
  return { name, ended };
}

for (const method of METHODS) {
  for (const how of ["normal", "error", "exit", "killed", "child-exit"]) {
    const end = how === "exit" ? "exit(3)" : `${how} exit`;
    test(`shared memory: no segment left in /dev/shm after ${end} [${method}]`, async () => {
      const before = listShm();
      const { code, stdout, stderr } = await runScript("shm_lifecycle.ts", [method, how]);
      const made = segments(stdout);
      assert.equal(made.length, 1, `no segment announced:\n${stdout}\n${stderr}`);
      assert.equal(
        made[0].mode,
        "600",
        "segments are created readable and writable by the owner only",
      );
      assert.ok(!before.has(made[0].name));
      assert.equal(
        existsSync(`/dev/shm/${made[0].name}`),
        false,
        `${made[0].name} was left behind`,
      );
      const left = [...listShm()].filter((n) => !before.has(n) && n.startsWith("mp_"));
      assert.ok(!left.includes(made[0].name));
      if (how === "error") assert.notEqual(code, 0);
      else if (how === "exit") assert.equal(code, 3, stderr);
      else assert.equal(code, 0, stderr);
      if (how === "killed") assert.match(stdout, /child exitCode -9/);
    });
  }

  test(`shared memory: segments and daemon children outlive an uncaught error the program handles [${method}]`, async () => {
    const { code, stdout, stderr } = await runScript("shm_lifecycle.ts", [method, "handled"]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /attached after the error/);
    assert.match(stdout, /child exitCode 0/);
    const made = segments(stdout);
    assert.equal(made.length, 2, stdout);
    for (const { name } of made) assert.equal(existsSync(`/dev/shm/${name}`), false);
  });

  test(`shared memory: no segment left after SIGTERM [${method}]`, async () => {
    const { name, ended } = await segmentMade(method, "term", "SIGTERM");
    assert.equal(await ended, "SIGTERM", "the program still ends by the signal");
    assert.equal(existsSync(`/dev/shm/${name}`), false, `${name} was left behind`);
  });

  // No exit callback runs on SIGKILL: the registry's sweeper, a helper process, unlinks them.
  for (const [how, who] of [["term", "the main process"], ["child-wait", "a child"]]) {
    const name = `shared memory: no segment left after SIGKILL, made by ${who} [${method}]`;
    test(name, async () => {
      const { name, ended } = await segmentMade(method, how, "SIGKILL");
      assert.equal(await ended, "SIGKILL");
      assert.ok(
        await eventually(() => !existsSync(`/dev/shm/${name}`), 2000),
        `${name} was left behind`,
      );
    });
  }
  test(`shared memory: no segment left after SIGKILL just after it was made [${method}]`, async () => {
    // It was registered for the sweep only after its creation: a SIGKILL in between (a program
    // in a create/close/unlink loop, killed) left it in /dev/shm. It is registered first now.
    const [cmd, argv] = scriptCommand("shm_kill_created.ts", [method]);
    const r = await runCommand(cmd, argv);
    const name = /^segment (\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(name, `no segment announced:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout, /not killed/);
    try {
      assert.ok(
        await eventually(() => !existsSync(`/dev/shm/${name}`), 3000),
        `${name} was left behind`,
      );
    } finally {
      if (existsSync(`/dev/shm/${name}`)) unlinkSync(`/dev/shm/${name}`);
    }
  });

  test(`shared memory: track: false keeps a segment after exit [${method}]`, async () => {
    const { stdout } = await runScript("shm_lifecycle.ts", [method, "untracked"]);
    const [made] = segments(stdout);
    assert.ok(made, stdout);
    try {
      assert.ok(existsSync(`/dev/shm/${made.name}`), "an untracked segment stays until unlinked");
    } finally {
      unlinkSync(`/dev/shm/${made.name}`);
    }
  });
}

test("a program whose thread children make no shared object makes no memory file", async () => {
  const r = await runScript("lazy_tracker.ts", ["thread"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exitCode 0 memoryFiles 0/);
});

/** Mounts an 8 MB /dev/shm, as small as a container's (Docker's default is 64 MB). */
const SMALL_SHM = "mount -t tmpfs -o size=8m tmpfs /dev/shm";
/** Why a private mount namespace cannot be had here, or false. */
function noMountNamespace(): string | false {
  const r = spawnSync("unshare", ["-m", "sh", "-c", SMALL_SHM], { encoding: "utf8" });
  if (r.status === 0) return false;
  return `cannot mount a small /dev/shm here (unshare -m needs CAP_SYS_ADMIN): ${
    r.error?.message ?? r.stderr.trim()
  }`;
}

test("a named segment bigger than the room left in /dev/shm fails at once, none left", {
  skip: noMountNamespace(),
}, async () => {
  const [cmd, argv] = scriptCommand("shm_room.ts");
  const r = await runCommand("unshare", [
    "-m",
    "sh",
    "-c",
    `${SMALL_SHM} && exec "$0" "$@"`,
    cmd,
    ...argv,
  ], { timeoutMs: 30_000 });
  // Before: the 32 MB segment was made (ftruncate is lazy) and the process died of SIGBUS
  // (exit 135) writing past 8 MB, its segment left behind.
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(got.filled, true);
  for (const failed of [got.tooBig, got.noRoomLeft]) {
    assert.equal(failed?.code, "ENOSPC", r.stdout);
    assert.match(failed.message, /has not that much room left .*--shm-size/, r.stdout);
  }
  assert.deepEqual(got.left, [], "segments left in /dev/shm");
});
