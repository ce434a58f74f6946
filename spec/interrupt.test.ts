/**
 * Ctrl-C: a program busy with everything at once (a named segment, a manager, children sharing a
 * `Value` and a `Lock`, a pool running long CPU-bound tasks; fixtures/scripts/interrupt.ts) is
 * interrupted, by SIGINT to its whole process group (what a terminal's Ctrl-C sends) or to its
 * main process alone (`kill -INT <pid>`), or stopped by SIGTERM to its main process or to all of
 * them (what `docker stop` and systemd send). It ends at once, by the signal, as
 * without the library; within a second none of its processes runs (children, manager, pool
 * workers, spares), and it leaves no segment in /dev/shm and no socket directory behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { ALL_METHODS, eventually, scriptCommand, tagged } from "./helpers.ts";

/**
 * Runs `cmd` with SIGINT at its default action, as a terminal's program has it: a program started
 * in the background by a shell that has no job control inherits SIGINT ignored, and Deno passes an
 * ignored signal on to the processes it spawns (Node and Bun reset it).
 */
const DEFAULT_SIGINT = [
  "-e",
  "$SIG{INT} = \"DEFAULT\"; exec { $ARGV[0] } @ARGV or die \"exec: $!\"",
];

/**
 * Ctrl-C (to the group, or to the main process alone), and a supervisor's stop: SIGTERM to the main
 * process (`docker stop`), or to all its processes (systemd, which signals the whole cgroup).
 */
const CASES = [
  ["SIGINT", "group", "Ctrl-C: SIGINT to the group"],
  ["SIGINT", "main process", "Ctrl-C: SIGINT to the main process"],
  ["SIGTERM", "main process", "a supervisor's stop: SIGTERM to the main process"],
  ["SIGTERM", "group", "a supervisor's stop: SIGTERM to the group"],
] as const;

for (const method of ALL_METHODS) {
  for (const [signal, to, what] of CASES) {
    const name = `${what} ends the program and all it started [${method}]`;
    test(name, async () => {
      const tag = crypto.randomUUID();
      const [cmd, args] = scriptCommand("interrupt.ts", [method]);
      const program = spawn("perl", [...DEFAULT_SIGINT, cmd, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, MULTIPROC_SPEC_TAG: tag },
        detached: true, // a process group of its own, as a terminal's job
      });
      let stdout = "";
      let stderr = "";
      program.stderr.on("data", (d) => (stderr += d));
      const ended = new Promise<[number | null, string | null]>((resolve) =>
        program.on("close", (code, signal) => resolve([code, signal]))
      );
      const ready = await new Promise<{ segment: string; manager: string }>((resolve, reject) => {
        program.stdout.on("data", (d) => {
          stdout += d;
          const m = /^READY (.*)$/m.exec(stdout);
          if (m) resolve(JSON.parse(m[1]));
        });
        ended.then(() => reject(new Error(`the program ended early:\n${stdout}\n${stderr}`)));
      });
      const started = tagged(tag).length;
      assert.ok(existsSync(`/dev/shm/${ready.segment}`));
      assert.ok(existsSync(ready.manager));

      const t0 = performance.now();
      process.kill(to === "group" ? -program.pid! : program.pid!, signal);
      const timeout = new Promise<"hung">((r) => setTimeout(() => r("hung"), 10_000));
      const end = await Promise.race([ended, timeout]);
      const gone = await eventually(() => tagged(tag).length === 0, 1000);
      const left = tagged(tag);
      for (const pid of left) process.kill(pid, "SIGKILL");

      assert.notEqual(end, "hung", `still running 10 s after ${signal}:\n${stderr}`);
      assert.deepEqual(end, [null, signal], `it should end by the signal:\n${stderr}`);
      assert.ok(performance.now() - t0 < 5000, "it should end at once");
      assert.ok(
        gone,
        `of the ${started} processes it ran, still running a second later: ${left.join(", ")}`,
      );
      assert.equal(existsSync(`/dev/shm/${ready.segment}`), false, "its segment was left");
      const dir = ready.manager.slice(0, ready.manager.lastIndexOf("/"));
      assert.equal(existsSync(dir), false, `the manager's socket directory ${dir} was left`);
    });
  }
}
