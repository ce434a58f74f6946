/**
 * The start methods, as a type every layer can name (which one is the default, and the
 * functions that set and check it, are in state/start_method.ts).
 * @module
 */

/**
 * How children are started: worker threads in this process, or separate OS processes.
 * @example
 * ```ts
 * import { getContext, type StartMethod } from "multiproc";
 * const method: StartMethod = "process";
 * const { Process } = getContext(method);
 * ```
 */
export type StartMethod = "thread" | "process";

/** Every start method, in the order `getAllStartMethods()` gives them. */
export const START_METHODS: readonly StartMethod[] = ["thread", "process"];
