/**
 * `SharedArray` and `RawArray`: a fixed-length array of numbers in shared memory (CPython's
 * `multiprocessing.Array`). Index access `a[i]` goes through a Proxy; `get`/`set` are direct.
 * @module
 */
import { clauseOf } from "../core/errors.ts";
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, shown } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import { HANDLE, type HandleState, Origin, registerKind } from "../handles/handle.ts";
import { allocate, attach, type Block, type BlockRef } from "../memory/arena.ts";
import { coerce, type Typecode, type TypedView, type ValueOf, viewOf } from "../memory/typecode.ts";
import type { Lock } from "../sync/lock.ts";
import type { RLock } from "../sync/rlock.ts";
import { indexed, nonNumberIndex, readOnly } from "./indexed.ts";
import { makeLock, VALUE_OPTIONS, type ValueOptions } from "./value.ts";

interface ArrayData {
  ref: BlockRef;
  typecode: Typecode;
  length: number;
  lock: Lock | RLock | null;
}

/**
 * A fixed-length array of numbers in shared memory, without a lock.
 * @example
 * ```ts
 * import { RawArray } from "multiproc";
 * const a = new RawArray("d", [0.5, 1.5]);
 * a[0] += 1;
 * console.log(a.toArray()); // [1.5, 1.5]
 * ```
 */
export class RawArray<T extends Typecode = Typecode> implements Iterable<ValueOf<T>> {
  static readonly kind: string = "RawArray";
  [index: number]: ValueOf<T>;
  /** The typecode this array was made with. */
  readonly typecode!: T;
  /** Number of elements. */
  readonly length!: number;
  /** @internal */
  readonly _view!: TypedView<ValueOf<T>>;
  /** @internal */
  readonly _ref!: BlockRef;
  /** @internal */
  readonly _method!: StartMethod;
  /** @internal */
  _lockOf: Lock | RLock | null = null;

  constructor(typecode: T, lengthOrValues: number | Iterable<ValueOf<T>>);
  /** @internal */
  constructor(origin: Origin<ArrayData>);
  constructor(a: T | Origin<ArrayData>, lengthOrValues?: number | Iterable<ValueOf<T>>) {
    const origin = Origin.of<ArrayData>(a, new.target);
    const revived = origin.revived;
    const typecode = (revived ? revived.typecode : a) as T;
    const what = `${new.target.name}('${typecode}')`;
    const View = viewOf(typecode, what);
    let values: (number | bigint)[] | undefined;
    let length: number;
    if (revived) length = revived.length;
    else if (typeof lengthOrValues === "number") {
      if (!Number.isInteger(lengthOrValues) || lengthOrValues < 0) {
        throw new RangeError(
          `${what}: length must be an integer >= 0, got ${shown(lengthOrValues)}`,
        );
      }
      length = lengthOrValues;
    } else if (
      lengthOrValues != null && typeof lengthOrValues !== "string"
      && typeof lengthOrValues[Symbol.iterator] === "function"
    ) {
      values = Array.from(lengthOrValues, (v) => coerce(typecode, v, what)); // before allocating
      length = values.length;
    } else {
      throw new TypeError(
        `${what}: give a length or an iterable of initial numbers, got ${shown(lengthOrValues)}`,
      );
    }
    const block = revived
      ? attach(revived.ref)
      : allocateFor(what, origin.method, length, View.BYTES_PER_ELEMENT);
    const fields = {
      _view: new View(block.buffer, block.offset, length) as unknown as TypedView<ValueOf<T>>,
      _ref: block.ref,
      _method: block.method,
    };
    Object.assign(this, fields);
    readOnly(this, { typecode, length }); // a.length = 0 would read past the memory, or not at all
    values?.forEach((v, i) => (fields._view[i] = v as ValueOf<T>));
    return indexed(this);
  }

  #index(i: number, what: string): number {
    const n = this.length;
    if (typeof i !== "number") throw nonNumberIndex(`${this.constructor.name}.${what}`, i);
    const j = i < 0 ? i + n : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw new RangeError(
        `${this.constructor.name}.${what}(${i}): index out of range (length ${n})`,
      );
    }
    return j;
  }

  /** Element `i` (negative counts from the end). */
  get(i: number): ValueOf<T> {
    return this._view[this.#index(i, "get")];
  }

  /** Sets element `i` (negative counts from the end). */
  set(i: number, v: ValueOf<T>): void {
    this._view[this.#index(i, "set")] = coerce(
      this.typecode,
      v,
      `${this.constructor.name}.set`,
    ) as ValueOf<T>;
  }

  /** A plain array copy of the elements. */
  toArray(): ValueOf<T>[] {
    return Array.from({ length: this.length }, (_, i) => this._view[i]);
  }

  /** Iterates the elements. */
  *[Symbol.iterator](): Iterator<ValueOf<T>> {
    for (let i = 0; i < this.length; i++) yield this._view[i];
  }

  /** @internal Rebuilds an array over the memory of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): RawArray {
    return new this(origin as Origin<ArrayData>);
  }

  [HANDLE](): HandleState {
    return {
      kind: (this.constructor as typeof RawArray).kind,
      method: this._method,
      data: {
        ref: this._ref,
        typecode: this.typecode,
        length: this.length,
        lock: this._lockOf,
      } satisfies ArrayData,
    };
  }

  /** For `console.log`. */
  toString(): string {
    return `${this.constructor.name}('${this.typecode}', [${this.toArray().join(", ")}])`;
  }
}

/**
 * A fixed-length array of numbers in shared memory, with a lock (by default a new `RLock`).
 * @example
 * ```ts
 * import { SharedArray } from "multiproc";
 * const counts = new SharedArray("i", 4);
 * {
 *   using _ = counts.getLock().hold();
 *   counts[2] += 1;
 * }
 * console.log([...counts]); // [0, 0, 1, 0]
 * ```
 */
export class SharedArray<T extends Typecode = Typecode> extends RawArray<T> {
  static override readonly kind: string = "SharedArray";

  constructor(
    typecode: T,
    lengthOrValues: number | Iterable<ValueOf<T>>,
    options?: ValueOptions,
  );
  /** @internal */
  constructor(origin: Origin<ArrayData>);
  constructor(
    a: T | Origin<ArrayData>,
    lengthOrValues?: number | Iterable<ValueOf<T>>,
    options: ValueOptions = {},
  ) {
    super(a as T, lengthOrValues as number);
    const revived = a instanceof Origin ? a.revived : undefined;
    this._lockOf = revived ? revived.lock : makeLock(
      checkOptions(options, VALUE_OPTIONS, "SharedArray", "{ lock: false }").lock,
      this._method,
      "SharedArray",
    );
  }

  /** The lock that guards this array; throws if it was made with `lock: false`. */
  getLock(): Lock | RLock {
    if (!this._lockOf) {
      throw new TypeError(`${this.constructor.name} was made with lock: false and has no lock.`);
    }
    return this._lockOf;
  }
}

registerKind(RawArray, SharedArray);
shownAsText(RawArray);

/**
 * The shared memory of `length` items of `bytes` each, for a child of `method`; an allocation the
 * runtime or the system refuses fails with a `RangeError` that names the call and the size.
 */
function allocateFor(what: string, method: StartMethod, length: number, bytes: number): Block {
  const size = Math.max(1, length) * bytes;
  try {
    return allocate(method, size, 8);
  } catch (cause) {
    throw new RangeError(
      `${what}: cannot allocate ${length} items (${size} bytes) of shared memory: ${
        clauseOf(cause)
      }. Make it smaller, or keep large data in a file the children read.`,
      { cause },
    );
  }
}
