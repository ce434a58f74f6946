/**
 * No child outlives its parent: "process" children exit when the main process is SIGKILLed, and
 * so do a "forkserver" program's child and its spares (booted ahead, never handed out); a
 * program that ends on its own leaves no spare behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { eventually, pidAlive, runCommand, RUNTIME, scriptCommand, tagged } from "./helpers.ts";

for (const mode of ["running", "blocked", "busy"]) {
  test(`process children exit within a second of their parent's SIGKILL (${mode} child)`, async () => {
    const [cmd, args] = scriptCommand("orphan.ts", ["process", mode]);
    const parent = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    const childPid = await new Promise<number>((resolve, reject) => {
      let out = "";
      parent.stdout.on("data", (d) => {
        out += d;
        const m = /CHILD (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      parent.on("close", () => reject(new Error(`parent ended early: ${out}`)));
    });
    assert.ok(pidAlive(childPid), "the child should run while its parent does");
    parent.kill("SIGKILL");
    const gone = await eventually(() => !pidAlive(childPid), 1000);
    if (!gone) process.kill(childPid, "SIGKILL");
    assert.ok(gone, `child ${childPid} still ran a second after its parent was killed`);
  });
}

test("forkserver: the child and every spare exit within a second of the program's SIGKILL", async () => {
  const tag = crypto.randomUUID();
  const [cmd, args] = scriptCommand("orphan.ts", ["forkserver", "running"]);
  const env = { ...process.env, MULTIPROC_SPEC_TAG: tag };
  const parent = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let stderr = "";
  parent.stderr.on("data", (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    parent.stdout.on("data", (d) => (out += d, /CHILD \d+/.test(out) && resolve()));
    parent.on("close", () => reject(new Error(`parent ended early: ${out}`)));
  });
  // The child, and the spares booted beside it (two kept ready).
  assert.ok(await eventually(() => tagged(tag).length >= 3, 5000), "no spares were booted");
  parent.kill("SIGKILL");
  const gone = await eventually(() => tagged(tag).length === 0, 1000);
  const left = tagged(tag);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.ok(gone, `still running a second after the program was killed: ${left.join(", ")}`);
  // Spares that find their parent gone end without a word (no EPIPE as an uncaught error).
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr);
});

test("forkserver: a program that ends on its own leaves no spare running", async () => {
  const tag = crypto.randomUUID();
  const [cmd, args] = scriptCommand("warm_end.ts");
  const ran = await runCommand(cmd, args, { env: { ...process.env, MULTIPROC_SPEC_TAG: tag } });
  assert.match(ran.stdout, /EXIT 3/, ran.stderr);
  // A spare still booting when the program ends finds its parent gone: it ends without a word.
  assert.doesNotMatch(ran.stderr, /EPIPE|Unhandled|Error/, "a spare complained as it ended");
  const gone = await eventually(() => tagged(tag).length === 0, 1000);
  const left = tagged(tag);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.ok(gone, `spares left running after the program ended (${RUNTIME}): ${left.join(", ")}`);
});
