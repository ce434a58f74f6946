/**
 * What every synchronization primitive shares: words in the arena of its context, crossing to
 * children as a handle to the same words, and the owner identity of this thread.
 * @module
 */
import { checkTimeout } from "../core/deadline.ts";
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import { HANDLE, type HandleState, Origin } from "../handles/handle.ts";
import { allocate, attach, type Block, type BlockRef } from "../memory/arena.ts";
import { Words } from "./futex.ts";

/**
 * Options of `acquire()` and `acquireAsync()`: `blocking: false` tries once; `timeout` in
 * milliseconds gives up after that long. Both return whether the lock was taken.
 * @example
 * ```ts
 * import { Lock } from "multiproc";
 * const lock = new Lock();
 * if (lock.acquire({ timeout: 100 })) lock.release();
 * console.log(lock.acquire({ blocking: false })); // true
 * ```
 */
export interface AcquireOptions {
  /** Wait for the lock (default), or return false at once if it is taken. */
  blocking?: boolean;
  /** Give up after this many milliseconds and return false. */
  timeout?: number;
}

/** What a primitive's handle carries: its words, and what else its kind needs. */
export type Revival = { ref: BlockRef; extra: unknown };

/** Base of the primitives: `words` live in shared memory of the object's start method. */
export abstract class Primitive {
  /** @internal */
  readonly _words: Words;
  /** @internal */
  readonly _block: Block;

  /** @internal `count` words: fresh ones for a new object, or those `origin` revives. */
  protected constructor(origin: Origin<Revival>, count: number) {
    const revival = origin.revived;
    this._block = revival ? attach(revival.ref) : allocate(origin.method, count * 4, 4);
    this._words = new Words(this._block, count);
  }

  /** @internal Rebuilds a primitive over the words of a handle (see `registerKind`). */
  static fromHandle<P>(this: new(origin: Origin<Revival>) => P, origin: Origin): P {
    return new this(origin as Origin<Revival>);
  }

  /** What else a child needs to rebuild this object (besides its words). */
  protected handleExtra(): unknown {
    return undefined;
  }

  /** The start method of the context that made this object. */
  get _method(): StartMethod {
    return this._block.method;
  }

  [HANDLE](): HandleState {
    return {
      kind: (this.constructor as { kind?: string }).kind ?? this.constructor.name,
      method: this._block.method,
      data: { ref: this._block.ref, extra: this.handleExtra() },
    };
  }

  /** Its state for `toString()`: `"locked"`, `"value=2"`. */
  protected abstract describe(): string;

  /** For `console.log`, as CPython's repr: `<Lock(unlocked)>`, `<Semaphore(value=2)>`. */
  toString(): string {
    return `<${this.constructor.name}(${this.describe()})>`;
  }
}

shownAsText(Primitive);

const ACQUIRE_OPTIONS = {
  blocking: true,
  timeout: true,
} as const satisfies OptionNames<AcquireOptions>;

/** Checks acquire options the way CPython does; `what` names the call in errors. */
export function acquireArgs(options: AcquireOptions | undefined, what = "acquire()"): {
  blocking: boolean;
  timeout: number | undefined;
} {
  const o = checkOptions(options, ACQUIRE_OPTIONS, what, "{ blocking: false } or { timeout: 100 }");
  const blocking = o.blocking ?? true;
  const timeout = o.timeout;
  if (!blocking && timeout !== undefined) {
    throw new TypeError(
      `${what}: a timeout needs blocking: true (a non-blocking call never waits)`,
    );
  }
  return { blocking, timeout: checkTimeout(what, timeout) };
}

/** A `Disposable` that calls `release` once. */
export function disposable(release: () => void): Disposable {
  let done = false;
  return {
    [Symbol.dispose]() {
      if (!done) {
        done = true;
        release();
      }
    },
  };
}
