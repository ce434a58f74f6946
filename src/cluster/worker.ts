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
import type { TargetRef } from "../targets/task.ts";
import {
  type BullJob,
  checkConnection,
  closeUnlessAway,
  connectionFailed,
  hangUp,
  loadBroker,
  safeUrl,
} from "./broker.ts";
import { loadCodec, ownBytes, type Packed } from "./codec.ts";
import { TurnBatch } from "./handoff.ts";
import { LocalPools, RenewedPools } from "./local_pools.ts";
import { localRef, realRoot, type RemoteRef, taskName } from "./naming.ts";
import {
  ARGS_TTL_S,
  DEFAULT_TASK_BYTES,
  RESULT_TTL_S,
  type RunOutcome,
  sideKey,
  type SideRef,
  type TaskData,
  type TaskResult,
} from "./protocol.ts";
import { Stops } from "./stops.ts";

/** Options of `runClusterWorker` (the command's flags). */
export interface ClusterWorkerOptions {
  connection: string;
  queue: string;
  root: string;
  /** Jobs run at once, each in a child of the local pool (default: the cores). */
  concurrency: number;
  /**
   * Children of the local pool at most (default: `concurrency`), besides one kept for quick jobs
   * (none with 1: they share it); each runs one job at a time, so that stopping one job ends no
   * other. As many as the cores, and the quick one, start at once; more only while jobs wait
   * and the running ones are slow (no job done for 50 ms). Fewer suit CPU-bound jobs: the jobs
   * beyond them wait for a free child.
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

/** A job this worker runs: its task's future in the local pool once submitted there. */
interface Running {
  future?: Future<RunOutcome>;
  /** A client asked to stop it. */
  stopped: boolean;
}

/**
 * Log lines gathered and written together once per turn of the event loop, or sooner: `soon()`
 * writes them once the code running now is done (a microtask), and `flush()` at once. A busy
 * worker's lines of jobs started go out with those of jobs ended, not one write per line.
 */
function batchedLog(
  write: (text: string) => void,
): { log(line: string): void; soon(): void; flush(): void } {
  let lines: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let queued = false;
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
    soon() {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        flush();
      });
    },
    flush,
  };
}

/** The key under which a module's check is kept (cheaper than the whole ref as JSON). */
function refKey(r: RemoteRef): string {
  return `${r.byUrl}\0${r.module}\0${r.hash}\0${r.name}\0${r.exportName}\0${r.mark}\0${r.source}`;
}

/**
 * A function whose jobs took under this long in a child (ms, on average) is quick: its jobs go
 * to the child kept for quick jobs, several at once, as a local pool sends tasks (far fewer
 * messages). Others run alone in a child, so that `--concurrency` jobs run at once and stopping
 * one ends no other.
 */
const QUICK_MS = 2;

/** How long each function's jobs take in a child, by the key of its ref (a moving average). */
class JobTimes {
  readonly #ms = new Map<string, number>();

  quick(key: string): boolean {
    return (this.#ms.get(key) ?? Infinity) < QUICK_MS;
  }

  note(key: string, ms: number): void {
    const old = this.#ms.get(key);
    this.#ms.set(key, old === undefined ? ms : 0.7 * old + 0.3 * ms);
  }
}

/** An error in one line of the log. */
function describe(error: unknown): string {
  const e = error as Error | null;
  return `${e?.name ?? "Error"}: ${e?.message ?? String(e)}`;
}

/** Starts a cluster worker; resolves once it is connected and takes jobs. */
export async function runClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const lines = batchedLog((text) => console.log(text));
  const log = o.log ?? lines.log;
  /**
   * A job's last line: written before its result leaves. (The write is queued as a microtask
   * before the job's function returns, so it runs before BullMQ's code after it; the lines of
   * jobs that end in the same turn go out in one write.)
   */
  const logNow = (line: string) => {
    log(line);
    lines.soon();
  };
  const url = checkConnection(o.connection, WHAT);
  const root = realRoot(o.root, WHAT);
  const [broker, codec] = await Promise.all([loadBroker(WHAT), loadCodec()]);
  const processes = o.processes ?? o.concurrency;
  // A module checked once (path and source hash) is not read again while the children that
  // loaded it run; a job of another version of it (its file edited) gets new children.
  const checked = new Map<string, Promise<TargetRef>>();
  const pools = new RenewedPools(
    () => new LocalPools(o.method, processes, WHAT),
    () => {
      checked.clear();
      log("a task's module changed on disk: new children import it as it is now");
    },
  );
  await pools.prestart();
  const running = new Map<string, Running>();
  /** Called when no job runs here any more (set when the worker closes). */
  let onIdle = () => {};
  const times = new JobTimes();
  const handOff = new TurnBatch();
  const verified = (ref: RemoteRef, key: string): Promise<TargetRef> => {
    let found = checked.get(key);
    if (!found) {
      found = localRef(ref, root);
      checked.set(key, found);
      found.catch(() => checked.delete(key)); // refused: looked at again next time
    }
    return found;
  };
  /** A job's large arguments, from their key. */
  const fetchArgs = async (side: SideRef): Promise<Packed> => {
    const value = side.json ? await control.get(side.key) : await control.getBuffer(side.key);
    if (value === null) {
      throw new Error(
        `its arguments are no longer in Redis (${side.key}: kept ${ARGS_TTL_S / 86_400} days, `
          + `unless Redis lost its data): submit the task again.`,
      );
    }
    return typeof value === "string" ? value : ownBytes(value);
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
    // Stopped before the job reached this function, or while this worker could not hear it.
    stops.started(id, (job.stalledCounter ?? 0) > 0 || (job.attemptsStarted ?? 1) > 1);
    try {
      const key = refKey(data.ref);
      const ref = await verified(data.ref, key);
      const args = typeof data.args === "string" ? data.args : await fetchArgs(data.args);
      // With the other jobs that came in this turn: one message per child for all of them.
      await handOff.run(() => {
        if (r.stopped) throw new CancelledError("its client stopped the task before it started");
        // Alone in its child (limits, a time limit or none) unless quick without a time limit;
        // either way a stop ends only this job (jobs sent behind it go back to the queue).
        const quick = data.timeout === undefined && times.quick(key);
        const limits = quick ? undefined : { timeout: data.timeout };
        const maxBytes = data.maxBytes ?? DEFAULT_TASK_BYTES;
        const { module, hash } = data.ref;
        const loaded = hash === undefined ? undefined : { path: module, hash };
        r.future = pools.submit([ref, args, data.chunk, maxBytes], limits, loaded);
      });
      const { result, ms } = await r.future!.then(undefined, (error: unknown) => {
        times.note(key, performance.now() - t0); // timed out, stopped or crashed: not quick
        throw error;
      });
      times.note(key, ms);
      let answer: TaskResult;
      if (result.ok && "large" in result) {
        // A large result in a key of its own: the job (and BullMQ's event of it) names the key.
        const side = {
          key: sideKey(o.queue, id, "result"),
          json: typeof result.large === "string",
        };
        await control.set(side.key, codec.forRedis(result.large), "EX", RESULT_TTL_S);
        answer = { ok: true, value: side };
      } else answer = result;
      if (answer.ok) logNow(`job ${id} finished in ${(performance.now() - t0).toFixed(1)} ms`);
      else logNow(`job ${id} failed: ${describe(codec.decode(answer.error))}`);
      return answer;
    } catch (error) {
      // Refused here, or stopped, timed out or crashed in its child.
      logNow(`job ${id} failed: ${describe(error)}`);
      return { ok: false, error: codec.encode(error) };
    } finally {
      running.delete(id);
      if (running.size === 0) onIdle();
    }
  };

  const lockDuration = o.lockDuration ?? 30_000;
  // BullMQ's connection blocks; the stop channel's subscribes: the keys are read on a third.
  const control = broker.connect(url);
  control.on("error", () => {});
  const connection = broker.connect(url, { blocking: true });
  // A client stops a running job (its signal aborted, or cancel({ force: true })).
  const subscriber = connection.duplicate();
  subscriber.on("error", () => {});
  const stops = new Stops({
    queue: o.queue,
    subscriber,
    control,
    running: () => running.keys(),
    isRunning: (id) => running.has(id),
    stop: (id) => stop(running.get(id)),
  });
  const worker = new broker.bullmq.Worker(o.queue, process, {
    connection,
    concurrency: o.concurrency,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    maxStalledCount: o.maxStalledCount ?? 2,
  });
  let lost = false;
  let lastError: string | undefined;
  connection.on("error", (e: Error) => lastError = e.message); // told with "lost", below
  connection.on("close", () => {
    const why = lastError === undefined ? "" : `${lastError}; `;
    if (!lost) log(`connection lost: ${safeUrl(url)} (${why}reconnecting)`);
    lost = true;
  });
  connection.on("ready", () => {
    if (lost) log(`connection back: ${safeUrl(url)}`);
    lost = false;
    lastError = undefined;
  });
  worker.on("error", () => {});
  worker.on("stalled", (jobId) => log(`job ${jobId} stalled: its worker died; redelivered`));
  await Promise.all([worker.waitUntilReady(), stops.listen()]).catch((error) => {
    throw connectionFailed(error, url);
  });
  log(
    `connected: ${safeUrl(url)}, queue '${o.queue}', root ${root}, ${o.concurrency} at once in `
      + `up to ${processes} "${o.method}" children${
        processes > 1 ? " (and one for quick jobs)" : ""
      }`,
  );
  return {
    async close() {
      stops.close();
      // BullMQ's close waits for the running jobs, then for Redis to take their results. With
      // Redis away it would wait for Redis: once the jobs are done here, the worker ends
      // without it (Redis redelivers those jobs when their locks expire).
      const idle = new Promise<void>((resolve) => {
        onIdle = resolve;
        if (running.size === 0) resolve();
      });
      if (!(await closeUnlessAway(worker.close(), [connection], idle))) {
        log(`Redis at ${safeUrl(url)} is unreachable: closing without it`);
        void worker.close(true).catch(() => {});
      }
      await pools.close();
      await Promise.all([hangUp(subscriber), hangUp(connection), hangUp(control)]);
      log("closed");
      lines.flush();
    },
  };
}
