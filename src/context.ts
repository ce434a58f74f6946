/**
 * Contexts: the module's factories bound to one start method (CPython's `get_context`).
 * @module
 */
import { BOUND_METHOD, Process } from "./process.ts";
import { checkStartMethod, getStartMethod, type StartMethod } from "./start_method.ts";

/**
 * Factories bound to one start method.
 * @example
 * ```ts
 * import { getContext } from "./mod.ts";
 * const ctx = getContext("thread");
 * console.log(ctx.getStartMethod()); // "thread"
 * ```
 */
export class Context {
  /** `Process` bound to this context's start method. */
  readonly Process: typeof Process;

  constructor(readonly method: StartMethod) {
    this.Process = class extends Process {
      static override [BOUND_METHOD] = method;
    } as typeof Process;
    Object.defineProperty(this.Process, "name", { value: "Process" });
  }

  /** This context's start method. */
  getStartMethod(): StartMethod {
    return this.method;
  }
}

const contexts = new Map<StartMethod, Context>();

/**
 * The context for `method` (default: the current default start method).
 * @example
 * ```ts
 * import { getContext } from "./mod.ts";
 * const { Process } = getContext("process");
 * ```
 */
export function getContext(method?: StartMethod): Context {
  const m = method === undefined ? getStartMethod() : checkStartMethod(method);
  let ctx = contexts.get(m);
  if (!ctx) contexts.set(m, ctx = new Context(m));
  return ctx;
}
