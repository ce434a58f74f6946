/**
 * What a `ClusterExecutor` is made with: the options as a program gives them, checked into the
 * settings the executor runs on.
 * @module
 */
import { checkTimeout } from "../core/deadline.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import { checkModuleOption } from "../targets/task.ts";
import { checkConnection } from "./broker.ts";
import { realRoot } from "./naming.ts";
import { DEFAULT_TASK_BYTES, MAX_TASK_BYTES } from "./protocol.ts";

/**
 * Options of `new ClusterExecutor()`.
 * @example
 * ```ts
 * import { ClusterExecutor } from "multiproc";
 * const options = { connection: "redis://127.0.0.1:6379", queue: "jobs", root: "." };
 * void options; // new ClusterExecutor(options) connects to that Redis
 * ```
 */
export interface ClusterOptions {
  /** The Redis (or Valkey) URL, `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  connection: string;
  /** The queue's name: workers started with the same `--queue` run its tasks. */
  queue: string;
  /** The project's root (a path or `file:` URL), checked out the same on every worker. */
  root: string | URL;
  /** At most this many jobs wait in Redis at once; more wait here (default 1000). */
  maxWaiting?: number;
  /** After Redis has been unreachable this long (ms), every pending task fails (default 30000). */
  unreachableTimeout?: number;
  /** A time limit in milliseconds for every task, as `run()`'s `timeout` (none by default). */
  taskTimeout?: number;
  /** The module that exports the functions submitted (`import.meta.url`, a URL or a path). */
  module?: string | URL;
  /**
   * At most this many bytes of a task's arguments, and of its result, encoded (default 64 MiB, at
   * most 512 MiB, Redis's limit for one value): a task over it fails alone, with a `RangeError`.
   */
  maxTaskBytes?: number;
}

/** `ClusterOptions`, checked, with their defaults. */
export interface ClusterConfig {
  readonly url: string;
  readonly queue: string;
  /** The root's real path. */
  readonly root: string;
  readonly module: string | URL | undefined;
  readonly maxWaiting: number;
  readonly unreachableMs: number;
  readonly taskTimeout: number | undefined;
  readonly maxTaskBytes: number;
}

const CLUSTER_OPTIONS = {
  connection: true,
  queue: true,
  root: true,
  maxWaiting: true,
  unreachableTimeout: true,
  taskTimeout: true,
  module: true,
  maxTaskBytes: true,
} as const satisfies OptionNames<ClusterOptions>;

/** Checks `options` (errors name `what`, the option, the value and what to give). */
export function clusterConfig(options: ClusterOptions, what: string): ClusterConfig {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${what}: pass { connection, queue, root }`);
  }
  checkOptions(options, CLUSTER_OPTIONS, what, "{ connection, queue, root }");
  const url = checkConnection(options.connection, what);
  if (typeof options.queue !== "string" || options.queue === "") {
    throw new TypeError(`${what}: queue must be a non-empty name, got ${String(options.queue)}`);
  }
  const positive = (n: unknown, name: string): number => {
    if (typeof n !== "number" || !(n > 0)) {
      throw new RangeError(`${what}: ${name} must be a number above 0, got ${String(n)}`);
    }
    return n;
  };
  return {
    url,
    queue: options.queue,
    root: realRoot(options.root, what),
    module: checkModuleOption(options.module, what),
    maxWaiting: positive(options.maxWaiting ?? 1000, "maxWaiting"),
    unreachableMs: positive(options.unreachableTimeout ?? 30_000, "unreachableTimeout"),
    taskTimeout: checkTimeout(`${what}: taskTimeout`, options.taskTimeout),
    maxTaskBytes: checkTaskBytes(options.maxTaskBytes ?? DEFAULT_TASK_BYTES, what),
  };
}

function checkTaskBytes(n: unknown, what: string): number {
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_TASK_BYTES) {
    throw new RangeError(
      `${what}: maxTaskBytes must be a whole number of bytes from 1 to ${MAX_TASK_BYTES} (512 MiB, `
        + `Redis's limit for one value), got ${shown(n)}; for larger data, put it where every `
        + `worker can read it (shared storage, an object store) and pass its name.`,
    );
  }
  return n as number;
}
