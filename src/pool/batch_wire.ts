/**
 * A batch of tasks, or of results, as it crosses to or from a worker whose channel walks every
 * array and object of a message before cloning it (`Popen.walksMessages`: Bun's child-process
 * IPC, looking for Buffers). The pool keeps a batch as one flat array (`JOB_FIELDS` or
 * `RESULT_FIELDS` per task); there a long batch crosses by fields instead, each field a column in
 * the form that crosses best (`wireColumn`: the ids, and most arguments and results of tiny tasks,
 * as the bytes of typed arrays, which the walk skips). Measured on Bun, 10 x 1000 tiny tasks sent
 * to a child: flat 11-13 ms once warm (45 ms cold), by fields 0.7 ms (3.9 ms cold). Elsewhere
 * (V8's serializer, structured clone) arrays are cloned in native code, and the packing did worse.
 * @module
 */
import { fromWireColumn, wireColumn } from "./columns.ts";
import {
  JOB_FIELDS,
  JOB_ONE,
  type JobFields,
  RESULT_FIELDS,
  type ResultFields,
} from "./protocol.ts";

/** Batches shorter than this cross flat: columns pay off on longer ones (`TYPED_MIN`). */
const BY_FIELDS_MIN = 32;

/** `jobs` (`JOB_FIELDS` per task: id, function id, args, flags) as it crosses best. */
export function jobsToWire(jobs: unknown[]): unknown[] | JobFields {
  const n = jobs.length / JOB_FIELDS;
  if (n < BY_FIELDS_MIN) return jobs;
  const ids = new Array<unknown>(n), fns = new Array<unknown>(n), flags = new Array<unknown>(n);
  const arity = new Array<unknown>(n);
  const args: unknown[] = [];
  for (let i = 0, j = 0; i < n; i++, j += JOB_FIELDS) {
    ids[i] = jobs[j];
    fns[i] = jobs[j + 1];
    const f = jobs[j + 3] as number;
    flags[i] = f;
    if (f & JOB_ONE) {
      arity[i] = 1; // the argument itself, not a list
      args.push(jobs[j + 2]);
      continue;
    }
    const a = jobs[j + 2] as unknown[];
    arity[i] = a.length;
    for (let k = 0; k < a.length; k++) args.push(a[k]);
  }
  return {
    ids: wireColumn(ids),
    fns: wireColumn(fns),
    flags: wireColumn(flags),
    arity: wireColumn(arity),
    args: wireColumn(args),
  };
}

/** Appends the tasks of a batch that crossed (`jobsToWire`'s) to `queue`, flat. */
export function pushJobsFromWire(wire: unknown[] | JobFields, queue: unknown[]): void {
  if (Array.isArray(wire)) {
    for (const x of wire) queue.push(x);
    return;
  }
  const ids = fromWireColumn(wire.ids), fns = fromWireColumn(wire.fns);
  const flags = fromWireColumn(wire.flags), arity = fromWireColumn(wire.arity);
  const args = fromWireColumn(wire.args);
  for (let i = 0, at = 0; i < ids.length; i++) {
    if ((flags[i] as number) & JOB_ONE) {
      queue.push(ids[i], fns[i], args[at++], flags[i]);
      continue;
    }
    const m = arity[i] as number;
    const a = new Array<unknown>(m);
    for (let k = 0; k < m; k++) a[k] = args[at++];
    queue.push(ids[i], fns[i], a, flags[i]);
  }
}

/** `results` (`RESULT_FIELDS` per task: id, ok, value or error) as it crosses best. */
export function resultsToWire(results: unknown[]): unknown[] | ResultFields {
  const n = results.length / RESULT_FIELDS;
  if (n < BY_FIELDS_MIN) return results;
  const ids = new Array<unknown>(n), ok = new Array<unknown>(n), values = new Array<unknown>(n);
  for (let i = 0, j = 0; i < n; i++, j += RESULT_FIELDS) {
    ids[i] = results[j];
    ok[i] = results[j + 1];
    values[i] = results[j + 2];
  }
  return { ids: wireColumn(ids), ok: wireColumn(ok), values: wireColumn(values) };
}

/** The results of a batch that crossed (`resultsToWire`'s), flat. */
export function resultsFromWire(wire: unknown[] | ResultFields): ArrayLike<unknown> {
  if (Array.isArray(wire)) return wire;
  const ids = fromWireColumn(wire.ids), ok = fromWireColumn(wire.ok);
  const values = fromWireColumn(wire.values);
  const out = new Array<unknown>(ids.length * RESULT_FIELDS);
  for (let i = 0, j = 0; i < ids.length; i++, j += RESULT_FIELDS) {
    out[j] = ids[i];
    out[j + 1] = ok[i];
    out[j + 2] = values[i];
  }
  return out;
}
