/**
 * A helper process that tidies up after this one, however it ends (CPython's resource tracker):
 * a `/bin/sh` script whose stdin is a pipe that only this process writes to, so that the script
 * reads the end of it when this process has ended -- normally, by a signal, or by SIGKILL, which
 * no handler in this process sees. It gets a file of this process as its fd 3 (one it must still
 * read after this process has gone). The script ignores SIGINT, SIGTERM and SIGHUP (a terminal's
 * Ctrl-C reaches the whole process group, the helper too) and keeps nothing alive here. Linux;
 * Deno needs `--allow-run` for `/bin/sh` (without it, none is started).
 * @module
 */
import { runtime } from "./detect.ts";
import { bun, deno } from "./globals.ts";
import { builtin, mayRun } from "./host.ts";

const SH = "/bin/sh";

/** How long Deno waits for its helper to have fd 3 open (see below). */
const OPEN_WAIT_MS = 1000;

/** The helpers started, kept so that their pipes stay open as long as this process lives. */
const helpers: unknown[] = [];

/**
 * Starts `/bin/sh -c <script> <args...>` with `fd` as its fd 3. The script should wait for the end
 * of its stdin (`while read -r _; do :; done`), then do its work. Returns false where no helper
 * could be started. On Node and Bun, `fd` is passed down at the spawn; Deno passes no file but
 * the standard three, so its helper opens `/proc/<pid>/fd/<fd>` itself, as its first command
 * (`open3`, below), which this waits for: this process may be killed the next moment.
 */
export function spawnWatcher(script: string, args: string[], fd: number): boolean {
  if (!mayRun(SH)) return false;
  try {
    if (runtime === "deno") return spawnOnDeno(script, args, fd);
    if (runtime === "bun") {
      // Bun's own spawn: its node:child_process took ~20 ms more to load and spawn the first time.
      const child = bun().spawn({
        cmd: [SH, ...shArgs(script, args)],
        stdio: ["pipe", "ignore", "ignore", fd],
      });
      child.unref();
      helpers.push(child);
      return true;
    }
    const { spawn } = builtin<typeof import("node:child_process")>("node:child_process");
    const child = spawn(SH, shArgs(script, args), { stdio: ["pipe", "ignore", "ignore", fd] });
    child.on("error", () => {}); // no /bin/sh: nothing to tidy up with
    child.stdin!.on("error", () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    helpers.push(child);
    return true;
  } catch {
    return false;
  }
}

function shArgs(script: string, args: string[]): string[] {
  return ["-c", `trap '' INT TERM HUP\n${script}`, "multiproc-watcher", ...args];
}

function spawnOnDeno(script: string, args: string[], fd: number): boolean {
  const d = deno();
  const open3 = `exec 3<"/proc/${d.pid}/fd/${fd}" || exit 0\n`;
  const child = new d.Command(SH, {
    args: shArgs(open3 + script, args),
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  helpers.push(child);
  // Until the helper has the file open (a few milliseconds), or can be seen not to. Its fd 3 is
  // compared with the file: before it runs the script, it may have another fd 3 (the pipe on
  // which a failed exec would be reported).
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + OPEN_WAIT_MS;
  try {
    const file = d.readLinkSync(`/proc/self/fd/${fd}`);
    while (performance.now() < end) {
      try {
        if (d.readLinkSync(`/proc/${child.pid}/fd/3`) === file) return true;
      } catch (error) {
        if (!(error instanceof d.errors.NotFound)) throw error;
      }
      Atomics.wait(nap, 0, 0, 1);
    }
  } catch {
    // no read access to /proc: not waited for
  }
  return false;
}
