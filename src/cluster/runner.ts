/**
 * A cluster job as a child of a worker's local pool runs it: the child finds the function, decodes
 * the arguments, calls it (once, or once per call of a chunk) and encodes the result or the
 * task's own error -- the worker process only passes text along, and values keep everything the
 * codec keeps (no structured clone on the way). The codec and the functions found are kept: a
 * job whose function returns at once is run and answered in the same turn, with no promise.
 * @module
 */
import { type ChunkRun, chunkRun, isThenable, runChunk } from "../pool/chunk_run.ts";
import { describeTarget, findTarget, type TargetRef } from "../targets/task.ts";
import {
  bytesOver,
  type Codec,
  loadCodec,
  ownBytes,
  type Packed,
  tooLarge,
  valuesOf,
} from "./codec.ts";
import {
  type ChildResult,
  type ChunkOutcome,
  isLarge,
  type RunOutcome,
  type TaskResult,
} from "./protocol.ts";
import { unsendable, unsendableItems } from "./sendable.ts";

type Fn = (...args: unknown[]) => unknown;

let codec: Codec | undefined;
/** The functions found in this child, by their ref (a refused one is looked for again). */
const found = new Map<string, Fn>();

function keyOf(ref: TargetRef): string {
  return `${ref.url}\0${ref.exportName}\0${ref.name}\0${ref.mark}\0${ref.source}`;
}

/**
 * Runs the call(s) of a job: `args` encoded (or packed, when large), of one call or (with `chunk`)
 * columns of calls. With the result, how long that took here (ms). A result that takes more than
 * `maxBytes` encoded fails the task with a `RangeError` instead; a large one is answered packed.
 */
export function runTask(
  ref: TargetRef,
  args: Packed,
  chunk: boolean,
  maxBytes: number,
): RunOutcome | Promise<RunOutcome> {
  const t0 = performance.now();
  const timed = (result: ChildResult): RunOutcome => ({ result, ms: performance.now() - t0 });
  const key = keyOf(ref);
  const fn = found.get(key);
  if (codec && fn) {
    const result = run(codec, fn, args, chunk, maxBytes);
    return result instanceof Promise ? result.then(timed) : timed(result);
  }
  return (async () => {
    const c = codec ??= await loadCodec();
    let f: Fn;
    try {
      f = await findTarget(ref, "multiproc worker: cannot run the task") as Fn;
    } catch (error) {
      return timed({ ok: false, error: c.encode(withWorkerAdvice(error)) });
    }
    found.set(key, f);
    return timed(await run(c, f, args, chunk, maxBytes));
  })();
}

/**
 * `error` with what to do in a worker's terms when it is Node's refusal of a TypeScript module
 * (Node before 22.18, no loader): the worker itself, whose children take up its loader, runs
 * under tsx.
 */
function withWorkerAdvice(error: unknown): unknown {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  if (cause?.code !== "ERR_UNKNOWN_FILE_EXTENSION") return error;
  return new Error(
    `${(error as Error).message} For a TypeScript project's tasks, start the worker under tsx: `
      + `NODE_OPTIONS='--import tsx' npx multiproc worker ... (tsx installed in the project), or `
      + `run it on Node 22.18 or later, on Bun or on Deno.`,
    { cause },
  );
}

function run(
  codec: Codec,
  fn: Fn,
  args: Packed,
  chunk: boolean,
  maxBytes: number,
): ChildResult | Promise<ChildResult> {
  const fail = (error: unknown): TaskResult => ({ ok: false, error: codec.encode(error) });
  const decoded = codec.decode(args) as unknown[];
  const done = (out: unknown): ChildResult | Promise<ChildResult> => {
    let bytes: number | undefined;
    try {
      const refused = chunk ? unsendableItems((out as ChunkOutcome).values) : unsendable(out);
      if (refused !== null) throw new TypeError(`it holds ${refused}`);
      const packed = codec.pack(out);
      bytes = bytesOver(codec, packed, maxBytes);
      if (bytes === undefined) {
        if (!isLarge(packed)) return { ok: true, value: codec.inline(packed) };
        return { ok: true, large: typeof packed === "string" ? packed : ownBytes(packed) };
      }
    } catch (error) {
      if (!(error instanceof RangeError)) { // else longer than a string can be
        return describeTarget(fn).then((name) =>
          fail(
            new TypeError(
              `${resultsOf(chunk, decoded, name)} cannot be sent back: ${
                (error as Error).message
              }. Return data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays, `
                + `errors).`,
            ),
          )
        );
      }
      return oversizedResult(fn, chunk, decoded, undefined, maxBytes, error).then(fail);
    }
    return oversizedResult(fn, chunk, decoded, bytes, maxBytes).then(fail);
  };
  if (!chunk) {
    let v: unknown;
    try {
      v = fn(...decoded);
    } catch (error) {
      return fail(error);
    }
    return isThenable(v) ? Promise.resolve(v).then(done, fail) : done(v);
  }
  // A chunk: the columns of its calls' arguments.
  const outcome = (run: ChunkRun) =>
    done({ values: run.values, errors: run.errors ?? [] } satisfies ChunkOutcome);
  const run = runChunk(fn, chunkRun(true, decoded as unknown[][]));
  return run instanceof Promise ? run.then(outcome) : outcome(run);
}

/** The error of `fn`'s result over `maxBytes` (`bytes` of it; undefined: too large to encode). */
async function oversizedResult(
  fn: Fn,
  chunk: boolean,
  decoded: unknown[],
  bytes: number | undefined,
  maxBytes: number,
  cause?: unknown,
): Promise<RangeError> {
  const what = resultsOf(chunk, decoded, await describeTarget(fn));
  return tooLarge(what, "result", chunk, bytes, maxBytes, cause);
}

/** "the result of 'f'", or of a chunk (`decoded`: its columns of arguments), for errors. */
function resultsOf(chunk: boolean, decoded: unknown[], name: string): string {
  return valuesOf("result", `'${name}'`, chunk ? decoded : undefined);
}
