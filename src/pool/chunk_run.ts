/**
 * Running a chunk's calls in a child: a pool worker's chunked task, a cluster job's chunk. The
 * calls run synchronously while they return at once; from one that returns a thenable on, each
 * such result is awaited in turn. The loop is a small function of its own, so the runtime
 * compiles it soon rather than with the larger async code around it.
 * @module
 */

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;

/** A chunk being run: its calls' values and errors so far, and the index of the next call. */
export interface ChunkRun {
  /** By columns (`data[j][k]`: argument j of call k), else by rows (`data[k]`: call k's). */
  readonly byColumns: boolean;
  readonly data: ArrayLike<unknown>[];
  /** Call k's value (left empty where it failed). */
  readonly values: unknown[];
  /** The calls that threw or rejected, by index, in call order (null if none). */
  errors: [number, unknown][] | null;
  k: number;
}

/** A chunk of calls given by columns or by rows, none run yet. */
export function chunkRun(byColumns: boolean, data: ArrayLike<unknown>[]): ChunkRun {
  const n = byColumns ? (data[0]?.length ?? 0) : data.length;
  return { byColumns, data, values: new Array(n), errors: null, k: 0 };
}

/** Runs every call of `run` with `fn`: `run` itself if all returned at once, else its promise. */
export function runChunk(fn: Fn, run: ChunkRun): ChunkRun | Promise<ChunkRun> {
  const v = runCalls(fn, run);
  return v === undefined ? run : awaitFrom(fn, run, v);
}

async function awaitFrom(fn: Fn, run: ChunkRun, v: PromiseLike<unknown> | undefined) {
  for (; v !== undefined; v = runCalls(fn, run)) {
    try {
      run.values[run.k] = await v;
    } catch (error) {
      (run.errors ??= []).push([run.k, error]);
    }
    run.k++;
  }
  return run;
}

/**
 * Runs `run`'s calls from `run.k` on until one returns a thenable: returns it (`run.k` is its
 * call's index), or undefined once all calls ran.
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
      (run.errors ??= []).push([k, error]);
    }
  }
  run.k = n;
  return undefined;
}

/** Whether `v` is a promise or another thenable (a call's result to await). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | null)?.then === "function";
}
