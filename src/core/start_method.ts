/**
 * The start methods, as a type every layer can name (which one is the default, and the
 * functions that set and check it, are in state/start_method.ts).
 * @module
 */

/**
 * How children are started: worker threads in this process (`"thread"`), separate OS processes
 * (`"process"`), or OS processes booted ahead and kept waiting (`"forkserver"`: a warm start).
 * @example
 * ```ts
 * import { getContext, type StartMethod } from "multiproc";
 * const method: StartMethod = "process";
 * const { Process } = getContext(method);
 * ```
 */
export type StartMethod = "thread" | "process" | "forkserver";

/** Every start method, in the order `getAllStartMethods()` gives them after the default. */
export const START_METHODS: readonly StartMethod[] = ["thread", "process", "forkserver"];

/**
 * The memory children of `method` share with their parent: a `SharedArrayBuffer` for threads,
 * an OS segment for process children (`"process"` and `"forkserver"` alike).
 */
export function memoryOf(method: StartMethod): "sab" | "segment" {
  return method === "thread" ? "sab" : "segment";
}
