/**
 * Classes that contexts bind to a start method (see `getContext`).
 * @module
 */
import { getStartMethod, type StartMethod } from "./start_method.ts";

/** The start method a context-made subclass is bound to. */
export const BOUND_METHOD: unique symbol = Symbol.for("multiproc.boundMethod") as never;

let forced: StartMethod | undefined;

/** The start method for an object made by constructor `ctor`: its context's, else the default. */
export function methodOf(ctor: unknown): StartMethod {
  return forced ?? (ctor as { [BOUND_METHOD]?: StartMethod })[BOUND_METHOD] ?? getStartMethod();
}

/** Runs `make` with every object it constructs bound to `method` (for parts of a shared object). */
export function withMethod<T>(method: StartMethod, make: () => T): T {
  const before = forced;
  forced = method;
  try {
    return make();
  } finally {
    forced = before;
  }
}
