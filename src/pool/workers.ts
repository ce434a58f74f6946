/**
 * A pool's workers: each a child (process/child.ts) running the pool worker loop
 * (pool/worker.ts), started with the pool's initializer and its arguments, and the record the
 * pool keeps of it while it runs.
 * @module
 */
import { keepAlive } from "../core/keep_alive.ts";
import type { StartMethod } from "../core/start_method.ts";
import { encodeArgs } from "../handles/handle.ts";
import { Child, nextIdentity } from "../process/child.ts";
import { poolWorkerUrl } from "../runtime/entry_url.ts";
import { callerOf } from "../targets/callsite.ts";
import { resolveTarget, type TargetRef } from "../targets/task.ts";
import type { AnyFn } from "./calls.ts";
import type { Job } from "./jobs.ts";
import type { WorkerConfig } from "./protocol.ts";

/** One worker, as its pool sees it. */
export interface Worker {
  child: Child;
  /** It said hello: its loop runs and hears messages. */
  ready: boolean;
  /** When it said hello (`performance.now()`). */
  readyAt: number;
  /** The functions it was sent (by id). */
  known: Set<number>;
  /** Tasks sent to it and not yet settled, in the order sent. */
  inFlight: Job<Worker>[];
  /** How many tasks it was sent (for `maxTasksPerChild`). */
  sent: number;
  exiting: boolean;
  /** Whether it keeps the program alive. */
  refd: boolean;
}

/** What every worker of a pool starts with. */
export interface WorkerSpec {
  method: StartMethod;
  initializer?: AnyFn;
  initargs?: unknown[];
  maxTasksPerChild?: number;
  module?: string | URL;
  /** How errors name the pool, e.g. `ProcessPoolExecutor`. */
  what: string;
  /** Prefix of worker names, e.g. `PoolWorker`. */
  workerName: string;
}

const WORKER_REF: TargetRef = {
  url: poolWorkerUrl(),
  name: "poolWorker",
  exportName: "poolWorker",
};

/** Starts the workers of one pool. */
export class WorkerStarter {
  readonly #spec: WorkerSpec;
  /** The initializer, found once (when the first worker starts). */
  #initializer: Promise<TargetRef> | undefined;
  #count = 0;

  constructor(spec: WorkerSpec) {
    this.#spec = spec;
  }

  /**
   * Starts a worker whose messages go to `onMessage`. `started` resolves once it runs, and
   * rejects if it could not start.
   */
  start(onMessage: (w: Worker, message: unknown) => void): { w: Worker; started: Promise<void> } {
    const spec = this.#spec;
    const w: Worker = {
      child: new Child({
        method: spec.method,
        name: `${spec.workerName}-${++this.#count}`,
        daemon: true,
        identity: nextIdentity(),
        onMessage: (m: unknown) => onMessage(w, m),
      }),
      ready: false,
      readyAt: 0,
      known: new Set(),
      inFlight: [],
      sent: 0,
      exiting: false,
      refd: true, // a new worker has work coming
    };
    const work = (found: TargetRef | null) => {
      const config: WorkerConfig = {
        initializer: found,
        initargs: found
          ? encodeArgs(spec.initargs ?? [], spec.method, (i) => `${spec.what}: initargs[${i}]`)
          : [],
        maxTasks: spec.maxTasksPerChild ?? null,
      };
      return { target: WORKER_REF, args: [config] };
    };
    if (spec.initializer) {
      this.#initializer ??= resolveTarget(
        spec.initializer,
        spec.module,
        callerOf(),
        `${spec.what}: initializer`,
      );
    }
    const initializer = this.#initializer;
    // Kept alive while it starts, as a Process's start() is: a daemon's child does not. Without
    // an initializer to find, the worker is launched before this returns.
    const started = keepAlive(
      w.child.start(() => (initializer ? initializer.then(work) : work(null))),
    ).then(() => {
      if (w.refd) w.child.ref(true); // a daemon starts unref'd; this one has work coming
    });
    return { w, started };
  }
}
