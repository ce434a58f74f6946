/**
 * The machinery under `ProcessPoolExecutor` and `Pool`: workers started on demand and reused,
 * tasks sent in batches with several in flight per worker (fewer when tasks are long), results
 * settled as they arrive, dead workers replaced, and every task settled on every path.
 * @module
 */
import { coalesced } from "../core/coalesce.ts";
import { BrokenProcessPool, CancelledError } from "../core/errors.ts";
import { Future } from "../futures/future.ts";
import { signalExitCode } from "../runtime/os.ts";
import type { TargetRef } from "../targets/task.ts";
import { jobsToWire, resultsFromWire } from "./batch_wire.ts";
import type { AnyFn, Chunk } from "./calls.ts";
import { type FnEntry, Functions } from "./functions.ts";
import { Growth } from "./growth.ts";
import { JobQueue } from "./job_queue.ts";
import {
  type Job as JobOf,
  type JobHome,
  newJob,
  settleJob,
  type TaskLimits,
  triageUnsent,
} from "./jobs.ts";
import {
  type DoneMessage,
  type InitFailedMessage,
  JOB_TIMED,
  type ProgressMessage,
  REPORT_FIELDS,
  RESULT_FIELDS,
  type StartedMessage,
} from "./protocol.ts";
import { STALLED_MS, TaskTimes, windowFor } from "./send_window.ts";
import { fromWire, type WireError } from "./wire.ts";
import { type Worker, WorkerSet, type WorkerSpec } from "./workers.ts";

/**
 * How long the failure of a task whose worker a signal to the process group ended (SIGINT, SIGTERM,
 * SIGHUP) waits for this process's own end.
 */
const INTERRUPT_GRACE_MS = 250;

/** The exit codes of a worker ended by those signals (minus the signal's number, as Python's). */
const SIGINT_EXIT = signalExitCode("SIGINT");
const SIGTERM_EXIT = signalExitCode("SIGTERM");
const SIGHUP_EXIT = signalExitCode("SIGHUP");

/** Options of a `WorkerPool`: what its workers start with, and how many at most. */
export interface WorkerPoolOptions extends WorkerSpec {
  maxWorkers: number;
  /**
   * Workers started as soon as tasks need them (default: `maxWorkers`). Beyond them the pool
   * grows only while tasks wait and no worker has finished one for 50 ms (growth.ts).
   */
  eagerWorkers?: number;
}

type Job = JobOf<Worker>;

/** Workers and their tasks. */
export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  /** How many tasks are queued or running (`live`). */
  #pending = 0;
  readonly #queue = new JobQueue<Job>((job) => job.live);
  readonly #workers: WorkerSet;
  readonly #functions: Functions;
  #nextId = 1;
  /** Dispatches at the end of this turn: the tasks submitted in one go are sent in one batch. */
  readonly #schedule = coalesced(() => this.#dispatch());
  /** What this pool's tasks need from it. */
  readonly #home: JobHome<Worker>;
  /** `eagerWorkers`, at least one. */
  readonly #eager: number;
  /** When the pool may grow beyond its eager workers (none if they are all it may have). */
  readonly #growth: Growth | undefined;
  #broken: Error | null = null;
  #closed = false;
  #drained: (() => void)[] = [];

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
    this.#eager = Math.max(1, options.eagerWorkers ?? options.maxWorkers);
    if (this.#eager < options.maxWorkers) this.#growth = new Growth(() => this.#dispatch());
    this.#functions = new Functions(options.module, options.what, () => this.#schedule());
    this.#home = {
      method: options.method,
      what: options.what,
      owner: {
        cancelQueued: (job) => {
          // Only a task no worker has received can be cancelled; the dispatcher skips it.
          if (job.worker || !this.#forget(job)) return false;
          this.#queue.left();
          queueMicrotask(() => this.#checkDrained());
          return true;
        },
        stopRunning: (job) => this.#stop(job, new CancelledError("the task was cancelled")),
      },
      entry: (fn) => this.#functions.entry(fn),
      stop: (job, error) => void this.#stop(job, error),
    };
    this.#workers = new WorkerSet(options, {
      message: (w, m) => this.#onMessage(w, m),
      exit: (w) => this.#onExit(w),
      failed: (error) =>
        this.#break(
          new BrokenProcessPool(`${options.what}: a worker could not start: ${error.message}`, {
            cause: error,
          }),
        ),
    });
  }

  /**
   * Starts workers up to `n` now, ahead of any task (for a program that knows tasks will come);
   * resolves once none is starting. Rejects with the pool's error if one could not start.
   */
  async prestart(n: number): Promise<void> {
    const workers = this.#workers;
    while (workers.size < Math.min(n, this.#o.maxWorkers) && !this.#broken) workers.spawn();
    while (!this.#broken && workers.starting() > 0) await workers.changed();
    if (this.#broken) throw this.#broken;
  }

  /** Whether a worker failed to start or initialize (no more tasks are accepted). */
  get broken(): Error | null {
    return this.#broken;
  }

  /** How many tasks are queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Queues `fn(...args)`, or with `chunk`, one task running `fn` once per call of the chunk.
   * `args` is the task's from now: pass an array of the caller's own (a copy of a program's).
   * With `limits`, the task can be stopped while it runs (its worker is killed and replaced).
   */
  submit<R>(
    fn: AnyFn | TargetRef,
    args: unknown[],
    chunk?: Chunk,
    limits?: TaskLimits,
  ): Future<R> {
    if (this.#broken) throw this.#broken;
    const job = newJob(this.#nextId++, fn, args, chunk, limits, this.#home);
    if (job instanceof Future) return job as Future<R>; // refused, or its signal aborted
    if (++this.#pending === 1) this.#workers.refAll(true);
    if (this.#growth && this.#queue.size === 0) this.#growth.progress(); // waiting starts now
    this.#queue.push(job);
    // A pool's first worker starts with its first task: its boot overlaps the caller's next
    // submits instead of following them. (More at once did worse: each start takes the main
    // thread, or the core the submits run on.) The rest as the dispatcher finds them needed.
    if (this.#workers.size === 0) this.#workers.spawn();
    this.#schedule();
    return job.future as Future<R>;
  }

  /** How many more tasks `w` may be sent now, the first of them `job`. */
  #room(w: Worker, job: Job): number {
    if (w.inFlight[0]?.limits) return 0; // nothing waits behind a task that can be stopped
    // Nothing heard for long: it runs a task slower than its function's window expected, and a
    // task sent now would wait behind it (a worker that has room, or one the pool starts, takes
    // it instead; CPython's workers take a task each when free).
    if (w.inFlight.length > 0 && performance.now() - w.heardAt > STALLED_MS) return 0;
    let room = windowFor(w, job) - w.inFlight.length;
    const max = this.#o.maxTasksPerChild;
    if (max !== undefined) room = Math.min(room, max - w.sent);
    return w.ready && !w.exiting ? room : 0;
  }

  #dispatch(): void {
    if (this.#functions.takeFailed()) {
      // Tasks whose function cannot be found fail now, whether or not a worker is ready.
      const failed = this.#queue.takeWhere((job) => job.fn.error !== null);
      for (const job of failed) this.#finish(job, false, job.fn.error);
    }
    const head = this.#queue.peek();
    if (!head) return;
    // Fill the ready workers, least loaded first.
    const workers = [...this.#workers].filter((w) => this.#room(w, head) > 0)
      .sort((a, b) => a.inFlight.length - b.inFlight.length);
    for (const w of workers) {
      const first = this.#queue.peek();
      if (!first) break;
      // Share the queue among the workers with room, at most `room` each.
      const share = Math.ceil(this.#queue.size / workers.length);
      this.#send(w, Math.min(this.#room(w, first), share));
    }
    // Start workers for what is left, up to the limit.
    const starting = this.#workers.starting();
    const next = this.#queue.peek();
    if (!next) return;
    // A task that can be stopped runs alone: one worker for each.
    const perWorker = next.limits ? 1 : next.fn.window.size();
    let needed = Math.ceil(this.#queue.size / perWorker) - starting;
    while (needed-- > 0 && this.#workers.size < this.#o.maxWorkers && !this.#broken) {
      if (this.#workers.size >= this.#eager && !this.#growth?.mayGrow(this.#workers)) break;
      this.#workers.spawn();
    }
  }

  #send(w: Worker, max: number): void {
    const fns: [number, TargetRef][] = [];
    const jobs: unknown[] = [];
    let n = 0;
    let fn: FnEntry | undefined;
    for (let job = this.#queue.peek(); n < max && job; job = this.#queue.peek()) {
      if (job.fn.error) {
        this.#queue.shift();
        this.#finish(job, false, job.fn.error);
        continue;
      }
      if (!job.fn.ref) break; // keep order: wait for this function's module to be found
      // A task of a slower function than the one before it waits for a worker with room for it.
      if (job.fn !== fn && n > 0 && w.inFlight.length >= windowFor(w, job)) break;
      fn = job.fn;
      if (job.limits && (n > 0 || w.inFlight.length > 0)) break; // alone, on an idle worker
      this.#queue.shift();
      if (!job.future._setRunning()) {
        this.#forget(job); // settled meanwhile
        continue;
      }
      if (!w.known.has(job.fn.id)) {
        w.known.add(job.fn.id);
        fns.push([job.fn.id, job.fn.ref]);
      }
      jobs.push(job.id, job.fn.id, job.args, job.clock ? job.flags | JOB_TIMED : job.flags);
      job.worker = w;
      if (w.inFlight.length === 0) w.heardAt = performance.now();
      w.inFlight.push(job);
      n++;
      if (job.limits) {
        job.clock?.sent();
        break;
      }
    }
    if (n === 0) return;
    try {
      const wire = w.child.walksMessages ? jobsToWire(jobs) : jobs;
      w.child.send(fns.length ? { op: "run", fns, jobs: wire } : { op: "run", jobs: wire });
    } catch (error) {
      return this.#unsent(w, n, fns, error);
    }
    w.sent += n;
  }

  /**
   * The last `n` tasks sent to `w` did not go: their message could not be serialized (an argument
   * the encoding could not prove cloneable, encodeJobArgs). Those that cannot go fail; the others
   * go back to the front of the queue (triageUnsent).
   */
  #unsent(w: Worker, n: number, fns: [number, TargetRef][], error: unknown): void {
    for (const [id] of fns) w.known.delete(id);
    const batch = w.inFlight.splice(-n);
    for (const job of batch) job.worker = undefined;
    const { failed, again } = triageUnsent(batch, error, this.#o.what);
    for (const [job, reason] of failed) this.#finish(job, false, reason);
    this.#queue.requeue(again);
    this.#schedule();
  }

  /**
   * Stops `job` with `error`: dropped if queued; if it runs, its worker is killed (the pool starts
   * another). False if it had settled.
   */
  #stop(job: Job, error: Error): boolean {
    if (!job.live) return false;
    const w = job.worker;
    if (w === undefined) this.#queue.left();
    else if (w.inFlight[0] !== job) {
      // Sent behind the task its worker runs (a batch): dropped here, its result ignored.
      w.inFlight.splice(w.inFlight.indexOf(job), 1);
    } else {
      // Running: its worker is killed (it takes nothing more; its exit is heard as any other)
      // and the tasks sent behind it go back to the front of the queue.
      const behind = w.inFlight.splice(0).slice(1);
      for (const other of behind) other.worker = undefined;
      this.#queue.requeue(behind);
      this.#workers.end(w, "kill");
    }
    this.#forget(job);
    if (error instanceof CancelledError) job.future._setCancelled(error);
    else job.future._setException(error);
    this.#checkDrained();
    return true;
  }

  #onMessage(w: Worker, m: unknown): void {
    const op = (m as { op?: string }).op;
    if (op === "done") this.#onDone(w, m as DoneMessage);
    else if (op === "progress") this.#onProgress(w, m as ProgressMessage);
    else if (op === "started") {
      inFlight(w, (m as StartedMessage).id)?.clock?.started();
    } else if (op === "hello") {
      w.ready = true;
      w.readyAt = performance.now();
      this.#growth?.progress();
      this.#workers.wake();
      if (w.exiting) return w.child.send({ op: "exit" });
      this.#dispatch();
      this.#workers.setRef(w, this.#pending > 0);
    } else if (op === "initFailed") {
      const e = fromWire((m as InitFailedMessage).error);
      this.#break(
        new BrokenProcessPool(
          `${this.#o.what}: the initializer failed in a worker: ${e.name}: ${e.message}`,
          { cause: e },
        ),
      );
    }
  }

  #onDone(w: Worker, m: DoneMessage): void {
    this.#growth?.progress();
    w.heardAt = performance.now();
    const r = resultsFromWire(m.results);
    const timed = new TaskTimes(m.busyMs);
    for (let i = 0; i < r.length; i += RESULT_FIELDS) {
      const id = r[i] as number;
      // Results come back in the order sent: the first in flight, almost always.
      const k = w.inFlight[0]?.id === id ? 0 : w.inFlight.findIndex((j) => j.id === id);
      if (k < 0) continue;
      const job = k === 0 ? w.inFlight.shift()! : w.inFlight.splice(k, 1)[0];
      timed.add(job);
      this.#finish(
        job,
        r[i + 1] === 1,
        r[i + 1] === 1 ? r[i + 2] : fromWire(r[i + 2] as WireError),
      );
    }
    timed.observe();
    this.#dispatch();
  }

  /**
   * Hands each report to its task's future, if that task is still this worker's (one stopped,
   * or whose worker died, has left its `inFlight`; its future has settled and would drop it
   * anyway).
   */
  #onProgress(w: Worker, m: ProgressMessage): void {
    const r = m.reports;
    for (let i = 0; i < r.length; i += REPORT_FIELDS) {
      inFlight(w, r[i] as number)?.future._setProgress(r[i + 1]);
    }
  }

  /** `job` is no longer queued or running (`live`); false if it was not. */
  #forget(job: Job): boolean {
    if (!job.live) return false;
    job.live = false;
    this.#pending--;
    return true;
  }

  #finish(job: Job, ok: boolean, value: unknown): void {
    this.#forget(job);
    settleJob(job, ok, value);
    this.#checkDrained();
  }

  #onExit(w: Worker, interrupted = false): void {
    const code = w.child.exitCode;
    // Ended by SIGINT, or by SIGTERM or SIGHUP that this pool did not send: most likely a signal
    // to the whole process group (a terminal's Ctrl-C, or its closing; systemd's stop, which
    // signals every process of the service), and this process's own end by it (after its exit
    // callbacks) is on its way: its task fails a moment later, so that the program ends by the
    // signal rather than by this failure first.
    const groupSignal = code === SIGINT_EXIT
      || ((code === SIGTERM_EXIT || code === SIGHUP_EXIT) && !w.exiting);
    if (groupSignal && !interrupted) {
      setTimeout(() => this.#onExit(w, true), INTERRUPT_GRACE_MS);
      return;
    }
    const [running, ...unstarted] = w.inFlight.splice(0);
    if (running) {
      this.#finish(
        running,
        false,
        new BrokenProcessPool(
          `${this.#o.what}: a worker (pid ${w.child.pid}) ended while running this task `
            + `(${
              code !== null && code < 0 ? `signal ${-code}` : `exit code ${code}`
            }); the pool replaced it.`,
        ),
      );
    }
    // Tasks sent but not started go back to the front of the queue.
    for (const job of unstarted) job.worker = undefined;
    this.#queue.requeue(unstarted);
    // A worker that failed before it was ready (it cannot import its module, say) breaks the
    // pool: replacing it would fail again. One killed by a signal is replaced like any other.
    const killed = code !== null && code < 0;
    if (!w.ready && !this.#broken && running === undefined && !w.exiting && code !== 0 && !killed) {
      this.#break(
        new BrokenProcessPool(
          `${this.#o.what}: a worker ended (exit code ${code}) before it was ready.`,
        ),
      );
      return;
    }
    this.#dispatch();
    this.#checkDrained();
  }

  /** Fails every queued and running task, kills the workers and refuses new tasks. */
  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = error;
    this.#workers.wake();
    this.#endAll(error, "kill");
  }

  /** Fails every queued and running task with `error`; ends every worker with `signal`. */
  #endAll(error: Error, signal: "kill" | "terminate"): void {
    for (const job of this.#queue.takeAll()) this.#finish(job, false, error);
    for (const w of this.#workers) {
      w.exiting = true;
      for (const job of w.inFlight.splice(0)) this.#finish(job, false, error);
      this.#workers.end(w, signal);
    }
  }

  /** Cancels the queued tasks (not those running). */
  cancelQueued(): void {
    for (const job of this.#queue.takeAll()) {
      // Out of the queue already: forgotten here, then cancelled (one put back there after its
      // worker died counts as running, for its future: cancelled all the same).
      this.#forget(job);
      job.future._setCancelled(new CancelledError("the pool was shut down before the task ran"));
    }
    this.#checkDrained();
  }

  /**
   * An idle pool keeps nothing alive (while any task is queued or running, every worker keeps the
   * program alive: their exits and messages must be heard); a closed one retires its workers.
   */
  #checkDrained(): void {
    if (this.#pending === 0) {
      this.#workers.refAll(false);
      for (const resolve of this.#drained.splice(0)) resolve();
    }
    if (this.#closed && this.#pending === 0) this.#workers.retireAll();
  }

  /** Resolves when no task is queued or running. */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** No more tasks: workers end once the queue is done. */
  close(): void {
    this.#closed = true;
    if (this.#pending === 0) this.#workers.retireAll();
  }

  /** Kills every worker now; their tasks and the queued ones fail with `error`. */
  terminate(error: Error): void {
    this.#closed = true;
    this.#endAll(error, "terminate");
  }

  /** Resolves when every worker has exited (after `close()` or `terminate()`). */
  joinWorkers(): Promise<void> {
    return this.#workers.join();
  }
}

/** The task `id` among those `w` has (the one it runs, almost always), if it is still there. */
function inFlight(w: Worker, id: number): Job | undefined {
  const first = w.inFlight[0];
  return first?.id === id ? first : w.inFlight.find((job) => job.id === id);
}
