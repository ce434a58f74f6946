/**
 * Choosing how children start: `"thread"` (Web Workers) or `"process"` (OS processes).
 * @module
 */
import { START_METHODS, type StartMethod } from "../core/start_method.ts";
import { DEFAULT_START_METHOD } from "../runtime/popen.ts";
import { state } from "./state.ts";

export type { StartMethod };

/**
 * A `Context` as the pools' `context` option sees it: something that says its start method (the
 * pools sit below the contexts that bind them, so they name this shape, not the class).
 */
export interface ContextLike {
  /** The start method of the context. */
  getStartMethod(): StartMethod;
}

/** What CPython's start methods that this library names otherwise are here. */
const CPYTHON_METHODS: Readonly<Record<string, string>> = {
  spawn: `CPython's "spawn" is "process" here: a fresh runtime per child.`,
  fork: `JavaScript runtimes cannot fork: "forkserver" starts children as fast, from spares `
    + `booted ahead, and "thread" runs them in this process.`,
};

/**
 * Throws a `TypeError` naming the valid methods unless `method` is one (and, for CPython's
 * `"spawn"` and `"fork"`, the one to use instead).
 */
export function checkStartMethod(method: unknown): StartMethod {
  if (START_METHODS.includes(method as StartMethod)) return method as StartMethod;
  const cpython = typeof method === "string" ? CPYTHON_METHODS[method] : undefined;
  throw new TypeError(
    `Unknown start method ${JSON.stringify(method)}: use one of ${
      START_METHODS.map((m) => `"${m}"`).join(", ")
    }.${cpython ? ` ${cpython}` : ""}`,
  );
}

/**
 * The start method children get by default: the one set with `setStartMethod()`, else (inside a
 * child) the one that child was started with, else `"thread"` on Deno and `"process"` on Bun
 * and Node.
 * @example
 * ```ts
 * import { getStartMethod } from "multiproc";
 * console.log(getStartMethod()); // "thread" on Deno, "process" on Bun and Node
 * ```
 */
export function getStartMethod(): StartMethod {
  return state().startMethod ?? DEFAULT_START_METHOD;
}

/**
 * Sets the default start method for this process.
 * @example
 * ```ts
 * import { setStartMethod } from "multiproc";
 * setStartMethod("process");
 * ```
 */
export function setStartMethod(method: StartMethod): void {
  state().startMethod = checkStartMethod(method);
}

/**
 * Every start method this runtime supports, the default first.
 * @example
 * ```ts
 * import { getAllStartMethods } from "multiproc";
 * console.log(getAllStartMethods()); // e.g. ["process", "thread"]
 * ```
 */
export function getAllStartMethods(): StartMethod[] {
  return [DEFAULT_START_METHOD, ...START_METHODS.filter((m) => m !== DEFAULT_START_METHOD)];
}
