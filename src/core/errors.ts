/**
 * The errors multiproc throws, after those of `multiprocessing` and `concurrent.futures`.
 * Each has `name` equal to its class name, so it survives crossing between processes.
 * @module
 */

/** Base of every error class below. */
export class MultiprocError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Fixes the name of class `cls`, and so of its errors, to `name`: a minifier (`bun build --compile
 * --minify`, esbuild's `--minify`) renames classes, and an error's name is its class's.
 */
function named(cls: typeof MultiprocError, name: string): void {
  Object.defineProperty(cls, "name", { value: name });
}

/**
 * A wait ran out of time.
 * @example
 * ```ts
 * import { TimeoutError } from "multiproc";
 * const e = new TimeoutError("2 of 5 futures unfinished after 100 ms");
 * console.log(e.name); // "TimeoutError"
 * ```
 */
export class TimeoutError extends MultiprocError {}
named(TimeoutError, "TimeoutError");

/**
 * A future was cancelled before it ran.
 * @example
 * ```ts
 * import { CancelledError } from "multiproc";
 * console.log(new CancelledError().name); // "CancelledError"
 * ```
 */
export class CancelledError extends MultiprocError {}
named(CancelledError, "CancelledError");

/**
 * A pool's worker died while running a task, or could not start.
 * @example
 * ```ts
 * import { BrokenProcessPool } from "multiproc";
 * console.log(new BrokenProcessPool("worker exited with -9").name); // "BrokenProcessPool"
 * ```
 */
export class BrokenProcessPool extends MultiprocError {}
named(BrokenProcessPool, "BrokenProcessPool");

/**
 * A barrier was reset or aborted while parties were waiting.
 * @example
 * ```ts
 * import { BrokenBarrierError } from "multiproc";
 * console.log(new BrokenBarrierError().name); // "BrokenBarrierError"
 * ```
 */
export class BrokenBarrierError extends MultiprocError {}
named(BrokenBarrierError, "BrokenBarrierError");

/**
 * A non-blocking or timed `get()` found the queue empty.
 * @example
 * ```ts
 * import { Empty } from "multiproc";
 * console.log(new Empty().name); // "Empty"
 * ```
 */
export class Empty extends MultiprocError {}
named(Empty, "Empty");

/**
 * A non-blocking or timed `put()` found the queue full.
 * @example
 * ```ts
 * import { Full } from "multiproc";
 * console.log(new Full().name); // "Full"
 * ```
 */
export class Full extends MultiprocError {}
named(Full, "Full");

/**
 * The other end of a pipe or queue was closed and nothing is left to read.
 * @example
 * ```ts
 * import { EOFError } from "multiproc";
 * console.log(new EOFError().name); // "EOFError"
 * ```
 */
export class EOFError extends MultiprocError {}
named(EOFError, "EOFError");

/**
 * A process object was used the wrong way: started twice, joined before start, and so on.
 * @example
 * ```ts
 * import { ProcessError } from "multiproc";
 * console.log(new ProcessError("Process-1 was already started").name); // "ProcessError"
 * ```
 */
export class ProcessError extends MultiprocError {}
named(ProcessError, "ProcessError");

/**
 * Reserved: a connection failed authentication.
 * @example
 * ```ts
 * import { AuthenticationError } from "multiproc";
 * console.log(new AuthenticationError().name); // "AuthenticationError"
 * ```
 */
export class AuthenticationError extends MultiprocError {}
named(AuthenticationError, "AuthenticationError");

/**
 * The error of a task stopped by `signal`: its reason if that is a `CancelledError`, else a
 * `CancelledError` caused by it, whose message gives the reason too.
 */
export function cancelledBy(signal: AbortSignal): CancelledError {
  const reason = signal.reason;
  if (reason instanceof CancelledError) return reason;
  const why = reason === undefined ? "" : ` (${clauseOf(reason)})`;
  return new CancelledError(`the task was cancelled: its signal was aborted${why}`, {
    cause: reason,
  });
}

/**
 * The class of an error named `name` when it crosses from another isolate or machine: a built-in
 * one or one of this library's, else undefined (the error is rebuilt as an `Error` of that name).
 */
export function errorClassNamed(
  name: string,
): (new(message?: string, options?: ErrorOptions) => Error) | undefined {
  return Object.hasOwn(ERROR_CLASSES, name) ? ERROR_CLASSES[name] : undefined;
}

const ERROR_CLASSES: Record<string, new(message?: string, options?: ErrorOptions) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  MultiprocError,
  TimeoutError,
  CancelledError,
  BrokenProcessPool,
  BrokenBarrierError,
  Empty,
  Full,
  EOFError,
  ProcessError,
  AuthenticationError,
};

/**
 * `cause`'s message as a clause to continue in a sentence of ours: without its closing period
 * (structured clone's say "... could not be cloned.").
 */
export function clauseOf(cause: unknown): string {
  return String((cause as Error | null)?.message ?? cause).replace(/\.+$/, "");
}
