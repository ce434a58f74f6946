/**
 * The functions a pool is given, each found once: the module and export a worker imports it
 * by, resolved in the background while its first tasks wait in the queue.
 * @module
 */
import { callerOf } from "../targets/callsite.ts";
import { resolveTarget, type TargetRef } from "../targets/task.ts";
import type { AnyFn } from "./calls.ts";
import { SendWindow } from "./send_window.ts";

/** A function as workers know it: an id, and its module and export once found. */
export interface FnEntry {
  readonly id: number;
  ref: TargetRef | null;
  error: Error | null;
  /**
   * How many of its tasks a worker is sent at once, from its own tasks' durations: a function's
   * tasks do not wait behind another's in a worker because that one's were quick.
   */
  readonly window: SendWindow;
}

/** The functions of one pool. */
export class Functions {
  readonly #fns = new Map<AnyFn | string, FnEntry>();
  #next = 1;
  #failed = false;
  readonly module: string | URL | undefined;
  readonly what: string;
  readonly onSettled: () => void;

  /**
   * `module` is the pool's `module` option, `what` names the pool in errors, `onSettled` runs
   * when a function has been found or has failed to be.
   */
  constructor(module: string | URL | undefined, what: string, onSettled: () => void) {
    this.module = module;
    this.what = what;
    this.onSettled = onSettled;
  }

  /**
   * The entry of `fn`, resolving it (from the call site of the pool's caller) on first use; or of
   * a function already named by its module (a cluster worker's task).
   */
  entry(fn: AnyFn | TargetRef): FnEntry {
    const key = typeof fn === "function" ? fn : JSON.stringify(fn);
    const known = this.#fns.get(key);
    if (known) return known;
    const e: FnEntry = { id: this.#next++, ref: null, error: null, window: new SendWindow() };
    this.#fns.set(key, e);
    if (typeof fn !== "function") {
      e.ref = fn;
      return e;
    }
    resolveTarget(fn, this.module, callerOf(), `${this.what}: cannot run`).then(
      (ref) => void (e.ref = ref),
      (error) => void (e.error = error, this.#failed = true),
    ).then(this.onSettled);
    return e;
  }

  /** Whether some function failed to be found since the last call (its tasks must fail). */
  takeFailed(): boolean {
    const failed = this.#failed;
    this.#failed = false;
    return failed;
  }
}
