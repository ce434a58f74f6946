/**
 * A `multiproc worker`'s local children, in two pools: one child for quick jobs, and the others
 * for jobs that run alone (slow, with a time limit, or of a function not yet timed here), one per
 * child. A pool shares the jobs it is handed at once among all its children with room, a message
 * and a wake-up each: quick jobs spread over several children cost a busy worker as many messages
 * and wake-ups per batch of jobs, where one child takes the batch in one (with one child per
 * worker instead of two, its children's CPU time halved in the cluster bench). The price: a job
 * of a quick function that turns out slow holds up the quick jobs sent behind it until it ends
 * (its function then counts as slow). With one process allowed, both kinds share one pool.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import type { Future } from "../futures/future.ts";
import type { TaskLimits } from "../pool/jobs.ts";
import { WorkerPool } from "../pool/worker_pool.ts";
import { cpuCount } from "../process/current.ts";
import { clusterRunnerUrl } from "../runtime/entry_url.ts";
import type { TargetRef } from "../targets/task.ts";
import type { Packed } from "./codec.ts";
import type { RunOutcome } from "./protocol.ts";

/** What every job runs in a child: runner.ts's `runTask`. */
const RUNNER: TargetRef = { url: clusterRunnerUrl(), name: "runTask", exportName: "runTask" };

/**
 * A worker's pools: `processes` children at most for jobs alone (as many as the cores started at
 * once), and one more for quick jobs.
 */
export class LocalPools {
  readonly #alone: WorkerPool;
  /** None when one process is allowed: quick jobs go to `#alone` too. */
  readonly #quick: WorkerPool | undefined;
  readonly #eager: number;

  constructor(method: StartMethod, processes: number, what: string) {
    const workerName = "ClusterWorker";
    this.#quick = processes > 1
      ? new WorkerPool({ method, maxWorkers: 1, what, workerName })
      : undefined;
    // As many children for jobs alone as cores, started now, so that as many slow jobs start at
    // once as before there was a quick child; more only for jobs that wait for one.
    this.#eager = Math.min(processes, cpuCount());
    this.#alone = new WorkerPool({
      method,
      maxWorkers: processes,
      eagerWorkers: this.#eager,
      what,
      workerName,
    });
  }

  /** Starts the children before the first job is taken: a job does not wait for a boot. */
  async prestart(): Promise<void> {
    await Promise.all([this.#quick?.prestart(1), this.#alone.prestart(this.#eager)]);
  }

  /**
   * Runs a job's call(s) in a child: with `limits` (a time limit, or none), alone in a child of
   * its own, so that it can be stopped without ending another; without, as a quick job, in the
   * quick child, several sent at once.
   */
  submit(
    args: [TargetRef, Packed, boolean, number],
    limits: TaskLimits | undefined,
  ): Future<RunOutcome> {
    const pool = limits === undefined && this.#quick ? this.#quick : this.#alone;
    return pool.submit<RunOutcome>(RUNNER, args, undefined, limits);
  }

  /** Ends the children once their jobs are done; resolves when they have exited. */
  async close(): Promise<void> {
    this.#quick?.close();
    this.#alone.close();
    await Promise.all([this.#quick?.joinWorkers(), this.#alone.joinWorkers()]);
  }
}

/** A module under the root whose jobs went to a worker's children: its path and source hash. */
export interface LoadedModule {
  readonly path: string;
  readonly hash: string;
}

/**
 * A worker's `LocalPools`, replaced by new ones when a job names a module whose source hash is not
 * the one the children were given (its file was edited since they imported it): a child keeps
 * the first version of a module it imported, so the old children would run the old code. The old
 * pools end once their running jobs are done; new children import the file as it is now.
 */
export class RenewedPools {
  #pools: LocalPools;
  readonly #make: () => LocalPools;
  readonly #onRenew: () => void;
  /** The old pools, until their jobs are done and their children have exited. */
  readonly #closing = new Set<Promise<void>>();
  /** The source hash of each module whose jobs went to the current children, by its path. */
  readonly #loaded = new Map<string, string>();

  /** `make` makes a worker's pools; `onRenew` is told when new ones replace them. */
  constructor(make: () => LocalPools, onRenew: () => void) {
    this.#make = make;
    this.#onRenew = onRenew;
    this.#pools = make();
  }

  /** Starts the first pools' children. */
  prestart(): Promise<void> {
    return this.#pools.prestart();
  }

  /**
   * Runs a job as `LocalPools.submit` does, in new pools if `module` (none: a module by URL)
   * has a hash other than the one of the version the children were given.
   */
  submit(
    args: [TargetRef, Packed, boolean, number],
    limits: TaskLimits | undefined,
    module: LoadedModule | undefined,
  ): Future<RunOutcome> {
    if (module) {
      const loaded = this.#loaded.get(module.path);
      if (loaded !== undefined && loaded !== module.hash) this.#renew();
      this.#loaded.set(module.path, module.hash);
    }
    return this.#pools.submit(args, limits);
  }

  #renew(): void {
    const old = this.#pools;
    this.#pools = this.#make();
    this.#loaded.clear();
    const closing = old.close().catch(() => {});
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
    this.#onRenew();
  }

  /** Ends every pool's children once their jobs are done; resolves when they have exited. */
  async close(): Promise<void> {
    await Promise.all([this.#pools.close(), ...this.#closing]);
  }
}
