/**
 * The `"process"` start method on Node: `child_process.fork` with an IPC channel.
 * @module
 */
import { deathSignalPrefix } from "./death_signal.ts";
import { entryToStart } from "./entry_url.ts";
import { builtin, childHome, fileUrlToPath } from "./host.ts";
import { processChildLoader } from "./node_loader.ts";
import { quietTestFlags, TEST_FLAG, withoutTestContext } from "./node_test.ts";
import { signalExitCode } from "./os.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

/** Flags of the parent that must not reach a child (they would run tests or open debuggers). */
const PARENT_ONLY_FLAG = /^--(inspect|debug|watch|experimental-default-type)/;

/**
 * Forks a Node child running the library's process entry, with the parent's flags (its loader
 * among them: tsx deferred until the child imports TypeScript, see node_loader.ts).
 */
export function launchNodeFork(options: LaunchOptions): Popen {
  const { fork } = builtin<typeof import("node:child_process")>("node:child_process");
  const process = globalThis.process;
  const entry = entryToStart("process");
  const { execArgv, env } = processChildLoader(
    entry,
    (flag) => PARENT_ONLY_FLAG.test(flag) || TEST_FLAG.test(flag),
  );
  // Through setpriv where it can be (death_signal.ts): fork runs [execPath, ...execArgv, entry].
  const [wrapper, ...wrapperArgs] = deathSignalPrefix();
  const child = fork(fileUrlToPath(entry), [], {
    cwd: childHome(),
    ...(wrapper ? { execPath: wrapper } : {}),
    // The program's tests, if it has any, stay skipped and unreported where a child imports
    // their file for a target (node_test.ts).
    execArgv: [
      ...(wrapper ? [...wrapperArgs, process.execPath] : []),
      ...execArgv,
      ...quietTestFlags(),
    ],
    env: withoutTestContext(env ? { ...process.env, ...env } : process.env),
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => resolve(signal ? signalExitCode(signal) : code ?? 1));
  });
  child.on("message", options.onMessage);
  child.on("error", () => {}); // a failed send to an ended child: its exit code tells the story
  return {
    pid: child.pid ?? -1,
    ident: child.pid ?? -1,
    exited,
    send(message) {
      if (child.connected) child.send(message as object);
    },
    terminate: () => void child.kill("SIGTERM"),
    kill: () => void child.kill("SIGKILL"),
    unref() {
      child.unref();
      (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    },
    ref() {
      child.ref();
      (child as unknown as { channel?: { ref(): void } }).channel?.ref();
    },
  };
}
