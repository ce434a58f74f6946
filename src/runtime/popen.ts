/**
 * One shape for a started child, whatever the runtime and start method (CPython's `Popen`).
 * `launch()` is the single dispatch point: the rest of the library never asks where it runs.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import { runtime } from "./detect.ts";
import { launchBunSpawn } from "./popen_bun.ts";
import { launchDenoCommand } from "./popen_deno.ts";
import { launchNodeFork } from "./popen_node.ts";
import { launchThread } from "./popen_thread.ts";

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
  /**
   * Its channel walks every array and object of a message before cloning it (Bun's child-process
   * IPC, for the Buffers to restore): a long array costs it per item, a typed array nothing.
   * Absent: it does not.
   */
  readonly walksMessages?: boolean;
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
  /**
   * Whether the child may be unref'd (a daemon, or a pool worker): where Deno's Web Worker
   * cannot be, a daemon thread runs on `node:worker_threads` instead (popen_thread.ts).
   */
  readonly daemon: boolean;
}

/** The default start method of this runtime: threads on Deno, processes on Bun and Node. */
export const DEFAULT_START_METHOD: StartMethod = runtime === "deno" ? "thread" : "process";

/**
 * Starts a child with the given start method on the current runtime and sends it `first(popen)`
 * at once (a boot message naming the child's pid): before anything else runs, so that starting
 * several children at once (Deno's `new Worker` blocks for milliseconds) does not hold back the
 * first one's boot. Synchronous: no promise turn between a start and its spawn, where a program
 * that has just queued thousands of callbacks (a pool sent 20 000 tasks at once) would make the
 * spawn wait for all of them. The launchers import no built-in module until they run, so that a
 * program (or a child) that starts no children loads nothing of them.
 */
export function launch(
  method: StartMethod,
  options: LaunchOptions,
  first: (popen: Popen) => unknown,
): Popen {
  const popen = launcher(method)(options);
  sendOrKill(popen, first);
  return popen;
}

/**
 * Sends `popen` its first message, `first(popen)`; should making or sending it throw, the child
 * is killed (it would wait for its boot until this process ends) and the error rethrown.
 */
export function sendOrKill(popen: Popen, first: (popen: Popen) => unknown): void {
  try {
    popen.send(first(popen));
  } catch (error) {
    popen.kill();
    throw error;
  }
}

function launcher(method: StartMethod): (options: LaunchOptions) => Popen {
  if (method === "thread") return launchThread;
  // "process" and "forkserver" children are OS processes alike (a forkserver's are booted ahead).
  if (runtime === "deno") return launchDenoCommand;
  if (runtime === "bun") return launchBunSpawn;
  return launchNodeFork;
}
