/**
 * The loop a pool worker runs (started as the target of a `Process`): it runs the tasks it is
 * sent, one at a time and in order, and sends results back in batches.
 * @module
 */
import { decodeValue, hasHandles } from "../handles/handle.ts";
import { state } from "../state/state.ts";
import { findTarget, type TargetRef } from "../targets/task.ts";
import { installReporter } from "./progress.ts";
import {
  type ChunkWire,
  JOB_FIELDS,
  numberColumn,
  type ProgressMessage,
  REPORT_FIELDS,
  type RunMessage,
  type WorkerConfig,
} from "./protocol.ts";
import { toWire, type WireError } from "./wire.ts";

type Fn = (...args: unknown[]) => unknown;

/**
 * Results are sent when the queue runs dry, or once they hold this many values (a chunk's
 * values count one each): a worker sent a long run of chunks streams their results back while it
 * computes the rest, and the parent consumes them meanwhile.
 */
const BATCH = 256;
/** Progress reports close together are gathered and sent this often at most (ms). */
const REPORT_MS = 10;

/** The worker loop. Exported: children import this module and call it. */
export async function poolWorker(config: WorkerConfig): Promise<void> {
  const channel = state().channel;
  if (!channel) throw new Error("poolWorker runs only in a child started by a pool");
  const fns = new Map<number, Fn | Promise<Fn>>();
  const queue: unknown[] = [];
  let head = 0;
  let exiting = false;
  let wakeUp: (() => void) | undefined;
  let results: unknown[] = [];
  /** How many values `results` holds (a chunk's count one each). */
  let pending = 0;
  let busyMs = 0;
  let done = 0;
  /** The id of the task running now (progress() reports on it), or null between tasks. */
  let current: unknown = null;
  /** Progress reports not yet sent: task id, value, ... */
  let reports: unknown[] = [];
  let reportedAt = -Infinity;
  let reportTimer: ReturnType<typeof setTimeout> | undefined;

  const sendReports = () => {
    if (reportTimer !== undefined) clearTimeout(reportTimer);
    reportTimer = undefined;
    if (reports.length === 0) return;
    const batch = reports;
    reports = [];
    reportedAt = performance.now();
    try {
      channel.send({ op: "progress", reports: batch } satisfies ProgressMessage);
    } catch {
      // progress() checked each value; should one still not cross, the others go alone.
      for (let i = 0; i < batch.length; i += REPORT_FIELDS) {
        try {
          channel.send({ op: "progress", reports: batch.slice(i, i + REPORT_FIELDS) });
        } catch {
          // dropped: a report is no result, and nothing waits for it
        }
      }
    }
  };
  installReporter((value) => {
    if (current === null) return; // between tasks: a timer left behind by a finished one
    reports.push(current, value);
    const wait = reportedAt + REPORT_MS - performance.now();
    if (wait <= 0) sendReports();
    else reportTimer ??= setTimeout(sendReports, wait);
  });

  // Reports always leave before results: a task's reports reach its future before it settles.
  const flush = () => {
    if (reports.length > 0) sendReports();
    if (results.length === 0) return;
    const batch = results;
    results = [];
    pending = 0;
    const message = { op: "done", results: batch, busyMs };
    busyMs = 0;
    try {
      channel.send(message);
    } catch {
      // Some result cannot be sent: send them one by one, replacing the ones that fail.
      for (let i = 0; i < batch.length; i += 3) {
        const one = batch.slice(i, i + 3);
        try {
          channel.send({ op: "done", results: one, busyMs: 0 });
        } catch (error) {
          const wire = toWire(error);
          wire.message = `the task's result cannot be sent back to the parent: ${wire.message}`;
          channel.send({ op: "done", results: [one[0], 0, wire], busyMs: 0 });
        }
      }
    }
  };

  channel.onMessage((raw) => {
    const m = raw as RunMessage | { op: string };
    if (m.op === "run") {
      const run = m as RunMessage;
      for (const [id, ref] of run.fns ?? []) fns.set(id, load(ref));
      for (const x of run.jobs) queue.push(x);
    } else if (m.op === "exit") exiting = true;
    else return;
    wakeUp?.();
  });

  if (config.initializer) {
    try {
      const init = await load(config.initializer);
      await init(...await revive(config.initargs));
    } catch (error) {
      channel.send({ op: "initFailed", error: toWire(error) });
      await channel.flush();
      return;
    }
  }
  channel.send({ op: "hello" });

  for (;;) {
    if (head === queue.length) {
      flush();
      if (head > 0) queue.length = head = 0;
      if (exiting || (config.maxTasks !== null && done >= config.maxTasks)) break;
      await new Promise<void>((resolve) => (wakeUp = resolve));
      wakeUp = undefined;
      continue;
    }
    const id = queue[head], fnId = queue[head + 1] as number;
    let args = queue[head + 2] as unknown[];
    const chunked = queue[head + 3] === 1;
    head += JOB_FIELDS;
    current = id;
    const t0 = performance.now();
    let fn = fns.get(fnId)!;
    try {
      if (hasHandles(args)) {
        flush();
        args = await revive(args);
      }
      if (fn instanceof Promise) {
        flush();
        fns.set(fnId, fn = await fn);
      }
      if (chunked) {
        const run = newChunkRun(args as ChunkArgs);
        // Calls run synchronously until one returns a thenable: that one is awaited here.
        for (let v = runCalls(fn, run); v !== undefined; v = runCalls(fn, run)) {
          try {
            run.values[run.k] = await v;
          } catch (error) {
            (run.errors ??= []).push([run.k, toWire(error)]);
          }
          run.k++;
        }
        const column = run.errors ? null : numberColumn(run.values);
        results.push(id, 1, [column ?? run.values, run.errors] satisfies ChunkWire);
        pending += run.values.length - 1;
      } else {
        let v = fn(...args);
        if (isThenable(v)) {
          flush();
          v = await v;
        }
        results.push(id, 1, v);
      }
    } catch (error) {
      results.push(id, 0, toWire(error));
    }
    current = null;
    busyMs += performance.now() - t0;
    done++;
    if (++pending >= BATCH) flush();
  }
  flush();
  await channel.flush();
}

/** Turns handles in `args` back into shared objects (loading their kinds on first need). */
async function revive(args: unknown[]): Promise<unknown[]> {
  if (!hasHandles(args)) return args;
  await import("../process/shared_kinds.ts");
  return decodeValue(args) as unknown[];
}

/** A chunk's arguments as they cross: by columns (1) or rows (0), and the data. */
type ChunkArgs = [byColumns: number, data: ArrayLike<unknown>[]];

/** A chunk being run: its calls' values and errors so far, and the index of the next call. */
interface ChunkRun {
  byColumns: boolean;
  data: ArrayLike<unknown>[];
  values: unknown[];
  errors: [number, WireError][] | null;
  k: number;
}

function newChunkRun([byColumns, data]: ChunkArgs): ChunkRun {
  const n = byColumns ? (data[0]?.length ?? 0) : data.length;
  return { byColumns: byColumns === 1, data, values: new Array(n), errors: null, k: 0 };
}

/**
 * Runs `run`'s calls of `fn` from `run.k` on, storing values and errors, until one returns a
 * thenable: returns it (`run.k` is its call's index), or undefined once all calls ran. A small
 * function of its own, so the runtime compiles this loop soon, rather than the worker's whole
 * async loop around it.
 */
function runCalls(fn: Fn, run: ChunkRun): PromiseLike<unknown> | undefined {
  const { data, values } = run;
  const n = values.length;
  const one = run.byColumns && data.length === 1 ? data[0] : null;
  for (let k = run.k; k < n; k++) {
    try {
      const v = one
        ? fn(one[k])
        : fn(...(run.byColumns ? data.map((c) => c[k]) : data[k] as unknown[]));
      if (isThenable(v)) {
        run.k = k;
        return v;
      }
      values[k] = v;
    } catch (error) {
      (run.errors ??= []).push([k, toWire(error)]);
    }
  }
  run.k = n;
  return undefined;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}

function load(ref: TargetRef): Promise<Fn> {
  return findTarget(ref, `Pool worker '${state().self.name}' cannot run the task`) as Promise<Fn>;
}
