/**
 * What every synchronization primitive shares: words in the arena of its context, crossing to
 * children as a handle to the same words, and the owner identity of this thread.
 * @module
 */
import { methodOf } from "../bound.ts";
import { HANDLE, type HandleState } from "../handles.ts";
import type { StartMethod } from "../runtime/popen.ts";
import { allocate, attach, type Block, type BlockRef } from "../shm/arena.ts";
import { registerRevivable, revivalData } from "../shm/revive.ts";
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

type Revival = { ref: BlockRef; extra: unknown };

/** Base of the primitives: `words` live in shared memory of the object's start method. */
export abstract class Primitive {
  /** @internal */
  readonly _words: Words;
  /** @internal */
  readonly _block: Block;

  /** `count` words, fresh for a new object, or those of the handle being revived. */
  protected constructor(ctor: unknown, count: number) {
    const revival = revivalData<Revival>();
    if (revival) {
      this._block = attach(revival.ref);
    } else {
      this._block = allocate(methodOf(ctor), count * 4, 4);
    }
    this._words = new Words(this._block, count);
  }

  /** Extra state a revived object was sent with (undefined for a new object). */
  protected static revivedExtra(): unknown {
    return revivalData<Revival>()?.extra;
  }

  /** Whether the constructor runs to revive a handle (so it must not initialize words). */
  protected static get reviving(): boolean {
    return revivalData<Revival>() !== undefined;
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
}

/** Registers how a child revives a primitive sent as `kind`. */
export function registerPrimitive(kind: string, make: () => Primitive): void {
  registerRevivable(kind, make);
}

/** Checks acquire options the way CPython does. */
export function acquireArgs(options: AcquireOptions | undefined): {
  blocking: boolean;
  timeout: number | undefined;
} {
  const blocking = options?.blocking ?? true;
  const timeout = options?.timeout;
  if (!blocking && timeout !== undefined) {
    throw new TypeError(
      "acquire(): a timeout needs blocking: true (a non-blocking call never waits)",
    );
  }
  return { blocking, timeout };
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
