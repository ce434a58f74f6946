/** No child outlives its parent: "process" children exit when the main process is SIGKILLed. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import { eventually, pidAlive, scriptCommand } from "./helpers.ts";

for (const mode of ["running", "blocked"]) {
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
