/**
 * `progress()`: a task says how it is getting on, and its caller hears it through
 * `future.onProgress()`. The pool worker loop (`pool/worker.ts`) installs the reporter, which
 * knows the task it runs; the task's module may have imported another copy of the library, so
 * the reporter is process-wide (`core/process_wide.ts`).
 * @module
 */
import { clauseOf, ProcessError } from "../core/errors.ts";
import { readGlobal, writeGlobal } from "../core/process_wide.ts";
import { sharedKindIn } from "../handles/encoding.ts";
import { state } from "../state/state.ts";

/** What a pool worker installs: queues `value` as a report on the task it runs now, if any. */
export type Reporter = (value: unknown) => void;

/** Makes `reporter` the one `progress()` calls in this isolate (a pool worker, at its start). */
export function installReporter(reporter: Reporter): void {
  writeGlobal("poolProgress", reporter);
}

/**
 * Reports `value` on the task running now, from inside it: the caller sees it through
 * `future.onProgress((value) => ...)` of that task's future (`submit()` and `run()`), in the order
 * reported, until the future settles. `value` crosses by structured clone, as results do
 * (numbers, strings, arrays, plain objects, `Map`, `Date`, ...).
 *
 * - **Where it works.** In a task run by `ProcessPoolExecutor` (or `Pool`, whose results have no
 *   `onProgress`: reports are dropped there), under every start method. A task of a
 *   `ClusterExecutor` may call it too; the report reaches the machine's `multiproc worker` and
 *   goes no further (not relayed through Redis): the call is harmless, the caller hears nothing.
 * - **Where it throws.** Anywhere no pool runs tasks -- the main process, a `Process` child -- it
 *   throws `ProcessError`, as the call is a mistake there. A value that cannot cross (a function,
 *   a symbol, a class instance structured clone refuses, a shared object such as `Value`) throws
 *   `TypeError` at the call, and nothing is reported.
 * - **Which task.** A worker runs one task at a time, and a report goes to the task running when
 *   `progress()` is called. Call it while the task runs (before its function returns or its
 *   promise settles): a call from a timer or promise left behind by a finished task is dropped
 *   while the worker is idle, and goes to the task it runs at that moment otherwise. In a
 *   `map` with `chunksize`, the task is the whole chunk (`map` itself reports items done through
 *   its `onProgress` option).
 * - **Cost.** Nothing for a task that never calls it. Reports are sent at once, or, when many
 *   come close together, gathered and sent every 10 ms at most, each one still delivered, and
 *   always before the task's result.
 * @example
 * ```ts
 * import { isMain, ProcessPoolExecutor, progress, sleep, task } from "multiproc";
 *
 * export const download = task(import.meta, async (parts: number) => {
 *   for (let i = 1; i <= parts; i++) {
 *     await sleep(10); // one part
 *     progress({ done: i, of: parts });
 *   }
 *   return parts;
 * });
 *
 * if (isMain(import.meta)) {
 *   await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
 *   const parts = await pool.submit(download, 5).onProgress((p) => console.log(p));
 *   console.log(parts); // 5, after { done: 1, of: 5 } ... { done: 5, of: 5 }
 * }
 * ```
 */
export function progress(value: unknown): void {
  const report = readGlobal<Reporter>("poolProgress");
  if (!report) {
    throw new ProcessError(
      `progress() reports on a task run by a pool (ProcessPoolExecutor, Pool); `
        + `'${state().self.name}' runs no pool task. Call it inside a function given to `
        + `submit(), run() or map().`,
    );
  }
  if (typeof value === "object" ? value !== null : typeof value === "function") {
    checkSendable(value);
  } else if (typeof value === "symbol") {
    throw new TypeError("progress(): a symbol cannot be sent to the parent; report data");
  }
  report(value);
}

/** Throws a `TypeError` unless `value` can cross to the parent by structured clone. */
function checkSendable(value: unknown): void {
  const kind = sharedKindIn(value);
  if (kind) {
    throw new TypeError(
      `progress(): a shared ${kind} cannot be reported (it lives in this machine's shared `
        + `memory); report data, such as its value`,
    );
  }
  try {
    structuredClone(value);
  } catch (error) {
    throw new TypeError(
      `progress(): the value cannot be sent to the parent: ${clauseOf(error)}. `
        + `Report data that structured clone accepts (no functions; class instances lose their `
        + `methods).`,
      { cause: error },
    );
  }
}
