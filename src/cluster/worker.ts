/**
 * `multiproc worker`: pulls a queue's jobs from Redis with a concurrency and runs each in a local
 * pool of this library, so that a CPU-bound task never starves BullMQ's lock renewal (this
 * process's event loop stays free) and a task can be killed (its child is). One line per state
 * change worth seeing: connected, job started / finished / failed, connection lost / back.
 * @module
 */
import { CancelledError } from "../core/errors.ts";
import type { StartMethod } from "../core/start_method.ts";
import type { Future } from "../futures/future.ts";
import { WorkerPool } from "../pool/worker_pool.ts";
import { cpuCount } from "../process/current.ts";
import { clusterRunnerUrl } from "../runtime/entry_url.ts";
import { unrefTimer } from "../runtime/host.ts";
import type { TargetRef } from "../targets/task.ts";
import { type BullJob, checkConnection, closeUnlessAway, hangUp, loadBroker } from "./broker.ts";
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
   * Children of the local pool at most (default: `concurrency`); each runs one job at a time, so
   * that stopping one job ends no other. As many as the cores start at once; more only while
   * jobs wait and the running ones are slow (no job done for 50 ms): quick jobs stay on a few
   * warm children. Fewer suit CPU-bound jobs: the jobs beyond them wait for a free child.
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

/** A job this worker runs: its task's future in the local pool once submitted there. */
interface Running {
  future?: Future<TaskResult>;
  /** A client asked to stop it. */
  stopped: boolean;
}

/**
 * Log lines gathered and written together once per turn of the event loop, or at once by
 * `flush()`: a busy worker's lines of jobs started go out with those of jobs ended, not one
 * write per line.
 */
function batchedLog(write: (text: string) => void): { log(line: string): void; flush(): void } {
  let lines: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const text = lines.join("\n");
    lines = [];
    write(text);
  };
  return {
    log(line) {
      lines.push(line);
      timer ??= setTimeout(flush, 0);
    },
    flush,
  };
}

/** The key under which a module's check is kept (cheaper than the whole ref as JSON). */
function refKey(r: RemoteRef): string {
  return `${r.byUrl}\0${r.module}\0${r.hash}\0${r.name}\0${r.exportName}\0${r.mark}\0${r.source}`;
}

/** What every job runs in a child: runner.ts's `runTask`. */
const RUNNER: TargetRef = { url: clusterRunnerUrl(), name: "runTask", exportName: "runTask" };

/** An error in one line of the log. */
function describe(error: unknown): string {
  const e = error as Error | null;
  return `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`;
}

/** Starts a cluster worker; resolves once it is connected and takes jobs. */
export async function runClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const lines = batchedLog((text) => console.log(text));
  const log = o.log ?? lines.log;
  /** A job's last line: out (with those gathered) before its result leaves, as readers expect. */
  const logNow = (line: string) => {
    log(line);
    lines.flush();
  };
  const url = checkConnection(o.connection, WHAT);
  const root = realRoot(o.root, WHAT);
  const [broker, codec] = await Promise.all([loadBroker(WHAT), loadCodec()]);
  const processes = o.processes ?? o.concurrency;
  const eager = Math.min(processes, cpuCount());
  const pool = new WorkerPool({
    method: o.method,
    maxWorkers: processes,
    // As many children as cores, started now; more only for jobs that wait for one (slow
    // jobs): quick jobs keep a few children busy and warm instead of spreading over all of them.
    eagerWorkers: eager,
    what: WHAT,
    workerName: "ClusterWorker",
  });
  // The children start before the first job is taken: a job does not wait for a child's boot.
  await pool.prestart(eager);
  const running = new Map<string, Running>();
  // A module checked once (path and source hash) is not read again: its children have it loaded.
  const checked = new Map<string, Promise<TargetRef>>();
  const verified = (ref: RemoteRef): Promise<TargetRef> => {
    const key = refKey(ref);
    let found = checked.get(key);
    if (!found) {
      found = localRef(ref, root);
      checked.set(key, found);
      found.catch(() => checked.delete(key)); // refused: looked at again next time
    }
    return found;
  };
  const stop = (r: Running | undefined) => {
    if (!r || r.stopped) return;
    r.stopped = true;
    r.future?.cancel({ force: true }); // dropped if it waits for a child, else its child killed
  };

  const process = async (job: BullJob): Promise<TaskResult> => {
    const data = job.data as TaskData;
    const id = job.id ?? "?";
    const t0 = performance.now();
    log(`job ${id} started: ${taskName(data.ref)}`);
    const r: Running = { stopped: false };
    running.set(id, r);
    // Stopped while this worker could not hear it (or before the job reached it): looked up
    // beside the run, for the jobs that started meanwhile together.
    stopsToCheck.add(id);
    scheduleStopCheck();
    try {
      const ref = await verified(data.ref);
      if (r.stopped) throw new CancelledError("its client stopped the task before it started");
      // With limits (a time limit or none), a task that can be stopped: alone in its child.
      r.future = pool.submit<TaskResult>(
        RUNNER,
        [ref, data.args, data.chunk],
        undefined,
        { timeout: data.timeout },
      );
      const result = await r.future;
      if (result.ok) logNow(`job ${id} finished in ${(performance.now() - t0).toFixed(1)} ms`);
      else logNow(`job ${id} failed: ${describe(codec.decode(result.error))}`);
      return result;
    } catch (error) {
      // Refused here, or stopped, timed out or crashed in its child.
      logNow(`job ${id} failed: ${describe(error)}`);
      return { ok: false, error: codec.encode(error) };
    } finally {
      running.delete(id);
    }
  };

  const lockDuration = o.lockDuration ?? 30_000;
  // BullMQ's connection blocks; the stop channel's subscribes: the keys are read on a third.
  const control = broker.connect(url);
  control.on("error", () => {});
  /** Stops the jobs among `ids` that a client asked to stop (their keys are there): one MGET. */
  const checkStops = async (ids: string[]) => {
    if (ids.length === 0) return;
    const found = await control.mget(...ids.map((id) => stopKey(o.queue, id))).catch(() => []);
    found.forEach((v, i) => v !== null && v !== undefined && stop(running.get(ids[i])));
  };
  /** Jobs started since the last look at their stop keys. */
  const stopsToCheck = new Set<string>();
  let checking = false;
  /** One look at a time, a turn after the first job: the jobs that start meanwhile join it. */
  const scheduleStopCheck = () => {
    if (checking) return;
    checking = true;
    setTimeout(async () => {
      try {
        while (stopsToCheck.size > 0) {
          const ids = [...stopsToCheck].filter((id) => running.has(id));
          stopsToCheck.clear();
          await checkStops(ids);
        }
      } catch {
        // looked at again by the poll below
      } finally {
        checking = false;
      }
    }, 0);
  };
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
  stops.on("message", (_channel, jobId) => stop(running.get(jobId)));
  // A stop whose message was lost (this worker was disconnected then) is in its key: looked for
  // every STOP_POLL_MS while jobs run.
  const poll = setInterval(
    () => void checkStops([...running.keys()]).catch(() => {}),
    STOP_POLL_MS,
  );
  unrefTimer(poll);
  await Promise.all([worker.waitUntilReady(), stops.subscribe(stopChannel(o.queue))]);
  log(
    `connected: ${url}, queue '${o.queue}', root ${root}, ${o.concurrency} at once in `
      + `up to ${processes} "${o.method}" children`,
  );
  return {
    async close() {
      clearInterval(poll);
      // BullMQ's close waits for the running jobs, then for Redis to take their results. With
      // Redis away it would wait for Redis: once the jobs are done here, the worker ends
      // without it (Redis redelivers those jobs when their locks expire).
      const idle = () => running.size === 0;
      if (!(await closeUnlessAway(worker.close(), [connection], idle))) {
        log(`Redis at ${url} is unreachable: closing without it`);
        void worker.close(true).catch(() => {});
      }
      pool.close();
      await pool.joinWorkers();
      await Promise.all([hangUp(stops), hangUp(connection), hangUp(control)]);
      log("closed");
      lines.flush();
    },
  };
}
