/**
 * One shape for a started child, whatever the runtime and start method (CPython's `Popen`).
 * `launch()` is the single dispatch point: the rest of the library never asks where it runs.
 * @module
 */
import { runtime, type RuntimeKey } from "./detect.ts";
import { launchBunSpawn } from "./popen_bun.ts";
import { launchDenoCommand } from "./popen_deno.ts";
import { launchNodeFork } from "./popen_node.ts";
import { launchThread } from "./popen_thread.ts";

/** How children are started: Web Workers in this process, or separate OS processes. */
export type StartMethod = "thread" | "process";

/** A started child. */
export interface Popen {
  /** The child's OS pid (the parent's own pid for a thread). */
  readonly pid: number;
  /** A number that tells this child apart: the pid for a process, a thread id for a thread. */
  readonly ident: number;
  /** Settles with the exit code once the child has ended; a signal shows as its negative. */
  readonly exited: Promise<number>;
  /** Sends a structured-cloneable message to the child. */
  send(message: unknown): void;
  /** Ends the child as SIGTERM would (exit code -15). */
  terminate(): void;
  /** Ends the child as SIGKILL would (exit code -9). */
  kill(): void;
  /** Lets this process exit while the child still runs (daemons); `ref()` undoes it. */
  unref(): void;
  ref(): void;
}

/** What the parent needs to start a child. */
export interface LaunchOptions {
  /** Called with each message the child sends. */
  readonly onMessage: (message: unknown) => void;
}

/** The default start method of this runtime: threads on Deno, processes on Bun and Node. */
export const DEFAULT_START_METHOD: StartMethod = runtime === "deno" ? "thread" : "process";

type Launcher = (options: LaunchOptions) => Popen;

const PROCESS_LAUNCHERS: Record<RuntimeKey, Launcher> = {
  deno: launchDenoCommand,
  bun: launchBunSpawn,
  node: launchNodeFork,
};

/** Starts a child with the given start method on the current runtime. */
export function launch(method: StartMethod, options: LaunchOptions): Popen {
  return method === "thread" ? launchThread(options) : PROCESS_LAUNCHERS[runtime](options);
}
