/**
 * `multiproc worker`: pulls a queue's jobs from Redis with a concurrency and runs each in a local
 * pool of this library, so that a CPU-bound task never starves BullMQ's lock renewal (this
 * process's event loop stays free) and a task can be killed (its child is). One line per state
 * change worth seeing: connected, job started / finished / failed, connection lost / back.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import { WorkerPool } from "../pool/worker_pool.ts";
import { clusterRunnerUrl } from "../runtime/entry_url.ts";
import { unrefTimer } from "../runtime/host.ts";
import type { TargetRef } from "../targets/task.ts";
import { type BullJob, checkConnection, hangUp, loadBroker } from "./broker.ts";
import { loadCodec } from "./codec.ts";
import { localRef, realRoot, type RemoteRef, taskName } from "./naming.ts";
import { stopChannel, stopKey, type TaskData, type TaskResult } from "./protocol.ts";

/** Options of `runClusterWorker` (the command's flags). */
export interface ClusterWorkerOptions {
  connection: string;
  queue: string;
  root: string;
  /** Jobs run at once, each in a child of the local pool (default: the cores). */
  concurrency: number;
  /**
   * Children of the local pool (default: `concurrency`, so that every job may be stopped alone).
   * Fewer suit CPU-bound jobs: the jobs beyond them wait for a free child.
   */
  processes?: number;
  method: StartMethod;
  /** How long a job's lock lasts without renewal: a dead worker's job is redelivered after it. */
  lockDuration?: number;
  /** How many times a job may be redelivered after its worker died, before it fails. */
  maxStalledCount?: number;
  log?: (line: string) => void;
}

/** A running cluster worker. */
export interface ClusterWorker {
  /** Stops taking jobs, lets the running ones finish, ends the local pool. */
  close(): Promise<void>;
}

const WHAT = "multiproc worker";
/** How often the keys of stops are looked at for the running jobs. */
const STOP_POLL_MS = 2000;

/** What every job runs in a child: runner.ts's `runTask`. */
const RUNNER: TargetRef = { url: clusterRunnerUrl(), name: "runTask", exportName: "runTask" };

/** An error in one line of the log. */
function describe(error: unknown): string {
  const e = error as Error | null;
  return `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`;
}

/** Starts a cluster worker; resolves once it is connected and takes jobs. */
export async function runClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const log = o.log ?? ((line: string) => console.log(line));
  const url = checkConnection(o.connection, WHAT);
  const root = realRoot(o.root, WHAT);
  const [broker, codec] = await Promise.all([loadBroker(WHAT), loadCodec()]);
  const pool = new WorkerPool({
    method: o.method,
    maxWorkers: o.processes ?? o.concurrency,
    what: WHAT,
    workerName: "ClusterWorker",
  });
  const running = new Map<string, AbortController>();
  // A module checked once (path and source hash) is not read again: its children have it loaded.
  const checked = new Map<string, Promise<TargetRef>>();
  const verified = (ref: RemoteRef): Promise<TargetRef> => {
    const key = JSON.stringify(ref);
    let found = checked.get(key);
    if (!found) {
      found = localRef(ref, root);
      checked.set(key, found);
      found.catch(() => checked.delete(key)); // refused: looked at again next time
    }
    return found;
  };

  const process = async (job: BullJob): Promise<TaskResult> => {
    const data = job.data as TaskData;
    const id = job.id ?? "?";
    const t0 = performance.now();
    log(`job ${id} started: ${taskName(data.ref)}`);
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const ref = await verified(data.ref);
      // Stopped while this worker could not hear it (or before the job reached it).
      if (await stopAsked(id)) controller.abort();
      const limits = { signal: controller.signal, timeout: data.timeout };
      const result = await pool.submit<TaskResult>(
        RUNNER,
        [ref, data.args, data.chunk],
        undefined,
        limits,
      );
      if (result.ok) log(`job ${id} finished in ${(performance.now() - t0).toFixed(1)} ms`);
      else log(`job ${id} failed: ${describe(codec.decode(result.error))}`);
      return result;
    } catch (error) {
      // Refused here, or stopped, timed out or crashed in its child.
      log(`job ${id} failed: ${describe(error)}`);
      return { ok: false, error: codec.encode(error) };
    } finally {
      running.delete(id);
    }
  };

  const lockDuration = o.lockDuration ?? 30_000;
  // BullMQ's connection blocks; the stop channel's subscribes: the keys are read on a third.
  const control = broker.connect(url);
  control.on("error", () => {});
  /** Whether a client asked to stop job `id` (its key is there). */
  const stopAsked = (id: string) =>
    control.exists(stopKey(o.queue, id)).then((n) => n > 0, () => false);
  const connection = broker.connect(url, { blocking: true });
  const worker = new broker.bullmq.Worker(o.queue, process, {
    connection,
    concurrency: o.concurrency,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: o.maxStalledCount ?? 2,
  });
  let lost = false;
  connection.on("error", () => {}); // reported once, as "lost", below
  connection.on("close", () => {
    if (!lost) log(`connection lost: ${url} (reconnecting)`);
    lost = true;
  });
  connection.on("ready", () => {
    if (lost) log(`connection back: ${url}`);
    lost = false;
  });
  worker.on("error", () => {});
  worker.on("stalled", (jobId) => log(`job ${jobId} stalled: its worker died; redelivered`));
  // A client stops a running job (its signal aborted, or cancel({ force: true })).
  const stops = connection.duplicate();
  stops.on("error", () => {});
  stops.on("message", (_channel, jobId) => running.get(jobId)?.abort());
  // A stop whose message was lost (this worker was disconnected then) is in its key: looked for
  // every STOP_POLL_MS while jobs run.
  const poll = setInterval(async () => {
    for (const [jobId, controller] of running) {
      if (await stopAsked(jobId)) controller.abort();
    }
  }, STOP_POLL_MS);
  unrefTimer(poll);
  await Promise.all([worker.waitUntilReady(), stops.subscribe(stopChannel(o.queue))]);
  log(
    `connected: ${url}, queue '${o.queue}', root ${root}, ${o.concurrency} at once in `
      + `${o.processes ?? o.concurrency} "${o.method}" children`,
  );
  return {
    async close() {
      clearInterval(poll);
      await worker.close();
      pool.close();
      await pool.joinWorkers();
      await Promise.all([hangUp(stops), hangUp(connection), hangUp(control)]);
      log("closed");
    },
  };
}
