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
