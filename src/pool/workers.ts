/**
 * A pool's workers: each a child (process/child.ts) running the pool worker loop
 * (pool/worker.ts), started with the pool's initializer and its arguments, and the record the
 * pool keeps of it while it runs; and the set of them, from their start to their exit.
 * @module
 */
import { keepAlive } from "../core/keep_alive.ts";
import type { StartMethod } from "../core/start_method.ts";
import { encodeArgs } from "../handles/encoding.ts";
import { Child, nextIdentity } from "../process/child.ts";
import { poolWorkerUrl } from "../runtime/entry_url.ts";
import { unrefTimer } from "../runtime/host.ts";
import { callerOf } from "../targets/callsite.ts";
import { resolveTarget, type TargetRef } from "../targets/task.ts";
import type { AnyFn } from "./calls.ts";
import type { Job } from "./jobs.ts";
import type { WorkerConfig } from "./protocol.ts";

/**
 * How long a killed worker has to exit before its set lets it go as if it had: a Deno worker
 * thread in a busy JavaScript loop never does (README, "When a process dies").
 */
const KILL_GRACE_MS = 1000;

/** One worker, as its pool sees it. */
export interface Worker {
  child: Child;
  /** It said hello: its loop runs and hears messages. */
  ready: boolean;
  /** When it said hello (`performance.now()`). */
  readyAt: number;
  /**
   * When it last gave results, or was sent a task while it had none (`performance.now()`): with
   * tasks in flight and nothing heard for long, it is busy with a slow one.
   */
  heardAt: number;
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
class WorkerStarter {
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
      heardAt: 0,
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

/** What a `WorkerSet` tells its pool about one worker. */
export interface WorkerEvents {
  message(w: Worker, message: unknown): void;
  /** `w` has exited (it has left the set). */
  exit(w: Worker): void;
  /** `w` could not start (it has left the set). */
  failed(error: Error): void;
}

/**
 * The workers of one pool, from their start to their exit: which are starting, which keep the
 * program alive, their retirement (an `"exit"` once idle), killing one (its tasks are the pool's
 * to fail first), and waiting for their exits.
 */
export class WorkerSet implements Iterable<Worker> {
  readonly #all = new Set<Worker>();
  readonly #starter: WorkerStarter;
  readonly #events: WorkerEvents;
  /** Callers of `changed()`. */
  #waiting: (() => void)[] = [];

  constructor(spec: WorkerSpec, events: WorkerEvents) {
    this.#starter = new WorkerStarter(spec);
    this.#events = events;
  }

  get size(): number {
    return this.#all.size;
  }

  [Symbol.iterator](): Iterator<Worker> {
    return this.#all.values();
  }

  /** How many have not said hello yet. */
  starting(): number {
    let n = 0;
    for (const w of this.#all) if (!w.ready) n++;
    return n;
  }

  /** Starts one more worker. */
  spawn(): void {
    const events = this.#events;
    const { w, started } = this.#starter.start((w, m) => events.message(w, m));
    w.child.ended.then(() => this.#left(w), () => {});
    started.catch((error) => {
      this.#all.delete(w);
      events.failed(error);
    });
    this.#all.add(w);
  }

  /** `w` has exited, or is let go: it leaves the set, and its pool hears of it once. */
  #left(w: Worker): void {
    if (!this.#all.delete(w)) return;
    this.wake();
    this.#events.exit(w);
  }

  /**
   * Ends `w` (`signal`: as SIGKILL or SIGTERM). One killed that has not exited `KILL_GRACE_MS`
   * later leaves the set as if it had, so that the pool replaces it and does not wait for it:
   * its pool and the program go on (a thread that cannot be stopped spins on, unref'd).
   */
  end(w: Worker, signal: "kill" | "terminate"): void {
    w.exiting = true;
    if (!w.child.alive) return;
    w.child.signal(signal);
    if (signal !== "kill") return; // SIGTERM may be handled: the worker ends when it chooses
    const timer = setTimeout(() => {
      if (!this.#all.has(w)) return;
      this.setRef(w, false);
      this.#left(w);
    }, KILL_GRACE_MS);
    unrefTimer(timer);
    w.child.ended.then(() => clearTimeout(timer), () => clearTimeout(timer));
  }

  /** Resolves at the next `wake()`: a worker said hello or exited, or the pool broke. */
  changed(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  /** Resolves the callers of `changed()`. */
  wake(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Whether `w` keeps the program alive (while its pool has tasks: their results must come). */
  setRef(w: Worker, on: boolean): void {
    if (w.refd === on) return;
    w.refd = on;
    w.child.ref(on);
  }

  refAll(on: boolean): void {
    for (const w of this.#all) this.setRef(w, on);
  }

  /** Asks every worker to exit once it is idle (a worker not yet ready is asked at its hello). */
  retireAll(): void {
    for (const w of this.#all) {
      if (w.exiting) continue;
      w.exiting = true;
      if (w.ready) w.child.send({ op: "exit" });
    }
  }

  /**
   * Resolves when every worker has left the set: exited, or let go (`end`), which a worker that
   * cannot be stopped never reports, so each change is looked at, not only the ends.
   */
  async join(): Promise<void> {
    while (this.#all.size > 0) {
      const ends = Promise.all([...this.#all].map((w) => w.child.ended.catch(() => {})));
      await keepAlive(Promise.race([ends, this.changed()]));
      await new Promise((r) => setTimeout(r, 0));
    }
  }
}
