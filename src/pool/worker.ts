/**
 * The loop a pool worker runs (started as the target of a `Process`): it runs the tasks it is
 * sent, one at a time and in order, and sends results back in batches.
 * @module
 */
import { clauseOf } from "../core/errors.ts";
import { decodeValue, sharedKindIn } from "../handles/encoding.ts";
import { HANDLE, isShareable } from "../handles/handle.ts";
import { state, whileBootstrapping } from "../state/state.ts";
import { findTarget, type TargetRef } from "../targets/task.ts";
import { pushJobsFromWire, resultsToWire } from "./batch_wire.ts";
import { type ChunkRun, chunkRun, isThenable, runChunk } from "./chunk_run.ts";
import { fromWireColumn, type WireColumn, wireColumn } from "./columns.ts";
import { installReporter } from "./progress.ts";
import {
  type ChunkWire,
  JOB_CHUNKED,
  JOB_FIELDS,
  JOB_HANDLES,
  JOB_ONE,
  JOB_TIMED,
  type ProgressMessage,
  REPORT_FIELDS,
  type RunMessage,
  type StartedMessage,
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
  /**
   * Since when the worker has been busy without sending results: a batch's busy time is the
   * time since the last batch or since it woke up with work (one clock read per batch, not two
   * per task: cold, 20 000 reads cost 7 ms on Node, 13 on Deno).
   */
  let busySince: number;
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
    const now = performance.now();
    const message = {
      op: "done",
      results: channel.walksMessages ? resultsToWire(batch) : batch,
      busyMs: now - busySince,
    };
    busySince = now;
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
          const kind = sharedKindIn(one[2]);
          wire.message = kind
            ? sharedResult(kind)
            : `the task's result cannot be sent back to the parent: `
              + `${clauseOf(wire.message)}. Return data that structured clone accepts (no `
              + `functions or symbols; class instances lose their methods).`;
          channel.send({ op: "done", results: [one[0], 0, wire], busyMs: 0 });
        }
      }
    }
  };

  channel.onMessage((raw) => {
    const m = raw as RunMessage | { op: string };
    if (m.op === "run") {
      const run = m as RunMessage;
      // Before its first task runs, a worker's imports are its bootstrap (no task's code runs).
      const first = done === 0 && current === null;
      for (const [id, ref] of run.fns ?? []) {
        fns.set(id, first ? whileBootstrapping(ref.url, () => load(ref)) : load(ref));
      }
      pushJobsFromWire(run.jobs, queue);
    } else if (m.op === "exit") exiting = true;
    else return;
    wakeUp?.();
  });

  if (config.initializer) {
    try {
      const init = await whileBootstrapping(
        config.initializer.url,
        () => load(config.initializer!),
      );
      await init(...await revive(config.initargs));
    } catch (error) {
      channel.send({ op: "initFailed", error: toWire(error) });
      await channel.flush();
      return;
    }
  }
  channel.send({ op: "hello" });

  busySince = performance.now();
  for (;;) {
    if (head === queue.length) {
      flush();
      if (head > 0) queue.length = head = 0;
      if (exiting || (config.maxTasks !== null && done >= config.maxTasks)) break;
      await new Promise<void>((resolve) => (wakeUp = resolve));
      wakeUp = undefined;
      busySince = performance.now();
      continue;
    }
    const id = queue[head], fnId = queue[head + 1] as number;
    let args = queue[head + 2];
    const flags = queue[head + 3] as number;
    head += JOB_FIELDS;
    current = id;
    let fn = fns.get(fnId)!;
    try {
      if (flags & JOB_HANDLES) {
        flush();
        args = await revive(args as unknown[]);
      }
      if (fn instanceof Promise) {
        flush();
        fns.set(fnId, fn = await fn);
      }
      if (flags & JOB_TIMED) {
        channel.send({ op: "started", id: id as number } satisfies StartedMessage);
      }
      if (flags & JOB_CHUNKED) {
        // A chunk's arguments as they cross: by columns (1) or rows (0), and the data.
        const [byColumns, data] = args as [number, ArrayLike<unknown>[]];
        const calls = byColumns === 1 ? (data as WireColumn[]).map(fromWireColumn) : data;
        let run = runChunk(fn, chunkRun(byColumns === 1, calls));
        if (run instanceof Promise) run = await run;
        const { values, errors } = run as ChunkRun;
        const wire = errors && errors.map(([k, e]): [number, WireError] => [k, toWire(e)]);
        results.push(id, 1, [wire ? values : wireColumn(values), wire] satisfies ChunkWire);
        pending += values.length - 1;
      } else {
        let v = flags & JOB_ONE ? fn(args) : fn(...args as unknown[]);
        if (isThenable(v)) {
          flush();
          v = await v;
        }
        // A Value, Lock, SharedMemory... would clone as a plain object of its fields, silently.
        if (isShareable(v)) throw new TypeError(sharedResult(v[HANDLE]().kind));
        results.push(id, 1, v);
      }
    } catch (error) {
      results.push(id, 0, toWire(error));
    }
    current = null;
    done++;
    if (++pending >= BATCH) flush();
  }
  flush();
  await channel.flush();
}

/** Why a task's result holding a shared object of kind `kind` fails, and what to do. */
function sharedResult(kind: string): string {
  return `the task's result holds a ${kind}, a shared object, which cannot be sent back to the `
    + `parent. Make it in the parent and pass it to the task (the task writes into it), or `
    + `return its data (its value, toArray(), a ShareableList's name).`;
}

/** Turns the handles in `args` (a job flagged `JOB_HANDLES`) back into shared objects. */
async function revive(args: unknown[]): Promise<unknown[]> {
  await import("../process/shared_kinds.ts");
  return decodeValue(args) as unknown[];
}

function load(ref: TargetRef): Promise<Fn> {
  return findTarget(ref, `Pool worker '${state().self.name}' cannot run the task`) as Promise<Fn>;
}
