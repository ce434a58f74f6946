/**
 * A program whose stdout reader goes away while its children print (`program | head -1`): it
 * ends by itself, its tasks all settle, and no child is left. On Deno, a `"process"` child's
 * console text reaches the parent's stdout through the parent (popen_deno.ts); a failed write
 * there used to stop the parent reading the child's messages, and the program hung.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { ALL_METHODS, eventually, pidAlive, RUNTIME, scriptCommand } from "./helpers.ts";

for (const method of ALL_METHODS) {
  test(`stdout closed by its reader while children print: the program ends [${method}]`, async () => {
    const [cmd, argv] = scriptCommand("stdout_closed.ts", [method]);
    const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // The reader takes the first output and goes away, as `| head -1` does.
    child.stdout.once("data", () => child.stdout.destroy());
    const ended = new Promise<number | null>((resolve) => child.on("close", resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"hung">((resolve) => timer = setTimeout(resolve, 30_000, "hung"));
    const code = await Promise.race([ended, timeout]);
    clearTimeout(timer);
    if (code === "hung") child.kill("SIGKILL");
    assert.notEqual(code, "hung", `the program did not end within 30 s:\n${stderr}`);
    const pids = (/^pids (\d+) (\d+)$/m.exec(stderr) ?? []).slice(1).map(Number);
    assert.equal(pids.length, 2, stderr);
    const gone = await eventually(() => pids.every((pid) => !pidAlive(pid)), 5000);
    assert.ok(gone, `children left running: ${pids.filter(pidAlive)}\n${stderr}`);
    // Node pipes a worker thread's stdout into the parent's process.stdout, whose EPIPE ends the
    // program (as in any Node program with worker threads); elsewhere it goes on to the end.
    if (RUNTIME === "node" && method === "thread") return;
    assert.match(stderr, /^settled \[("(fulfilled|rejected)",?){4}\]$/m, stderr);
    if (RUNTIME !== "node") {
      assert.match(stderr, /^settled \["fulfilled","fulfilled","fulfilled","fulfilled"\]$/m);
    }
    assert.match(stderr, /^done$/m, stderr);
    assert.equal(code, 0, stderr);
  });
}
