/**
 * The `"process"` start method on Bun: `Bun.spawn` with an IPC channel.
 * @module
 */
import { bunChildFlags } from "./bun_flags.ts";
import { deathSignalPrefix } from "./death_signal.ts";
import { entryToStart } from "./entry_url.ts";
import { bun } from "./globals.ts";
import { childHome, fileUrlToPath, mainScript } from "./host.ts";
import { signalExitCode } from "./os.ts";
import type { LaunchOptions, Popen } from "./popen.ts";
import { frozenChildEnv, standaloneMain } from "./standalone.ts";

/**
 * Spawns a Bun child running the library's process entry; in a single-file executable, the
 * executable again, as a child (standalone.ts), with the program's arguments.
 */
export function launchBunSpawn(options: LaunchOptions): Popen {
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const frozen = standaloneMain() !== null;
  const child = bun().spawn({
    cmd: [
      ...deathSignalPrefix(), // killed with this process, even while busy (death_signal.ts)
      globalThis.process.execPath,
      ...(frozen
        ? mainScript().args
        : [...bunChildFlags(), fileUrlToPath(entryToStart("process"))]),
    ],
    // The environment now, as Node's fork and Deno's Command give it: Bun.spawn's default is the
    // one this process started with, without the changes the program made to `process.env`.
    env: frozen ? frozenChildEnv("process") : { ...globalThis.process.env },
    stdio: ["ignore", "inherit", "inherit"],
    cwd: childHome(),
    serialization: "advanced",
    ipc: options.onMessage,
    onExit: (_proc, exitCode, signalCode) =>
      resolveExit(signalCode ? signalExitCode(signalCode) : exitCode ?? 1),
  });
  return {
    pid: child.pid,
    ident: child.pid,
    exited,
    walksMessages: true,
    send(message) {
      try {
        child.send(message);
      } catch {
        // The child has ended; its exit code tells the story.
      }
    },
    terminate: () => child.kill("SIGTERM"),
    kill: () => child.kill("SIGKILL"),
    unref: () => child.unref(),
    ref: () => child.ref(),
  };
}
