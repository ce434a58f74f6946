/**
 * A cluster job as a child of a worker's local pool runs it: the child finds the function, decodes
 * the arguments, calls it (once, or once per row of a chunk) and encodes the result or the
 * task's own error — the worker process only passes text along, and values keep everything the
 * codec keeps (no structured clone on the way).
 * @module
 */
import { findTarget, type TargetRef } from "../targets/task.ts";
import { loadCodec } from "./codec.ts";
import type { ChunkOutcome, TaskResult } from "./protocol.ts";

/** Runs the call(s) of a job: `args` encoded, of one call or (with `chunk`) of each row. */
export async function runTask(ref: TargetRef, args: string, chunk: boolean): Promise<TaskResult> {
  const codec = await loadCodec();
  const fail = (error: unknown): TaskResult => ({ ok: false, error: codec.encode(error) });
  let fn: (...args: unknown[]) => unknown;
  try {
    fn = await findTarget(ref, "multiproc worker: cannot run the task");
  } catch (error) {
    return fail(error);
  }
  const decoded = codec.decode(args) as unknown[];
  let out: unknown;
  if (!chunk) {
    try {
      out = await fn(...decoded);
    } catch (error) {
      return fail(error);
    }
  } else {
    const outcome: ChunkOutcome = { values: [], errors: [] };
    for (const [k, row] of (decoded as unknown[][]).entries()) {
      try {
        outcome.values.push(await fn(...row));
      } catch (error) {
        outcome.values.push(undefined);
        outcome.errors.push([k, error]);
      }
    }
    out = outcome;
  }
  try {
    return { ok: true, value: codec.encode(out) };
  } catch (error) {
    return fail(
      new TypeError(
        `the result of '${ref.name}' cannot be sent back: ${(error as Error).message}. Return `
          + `data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays, errors).`,
      ),
    );
  }
}
