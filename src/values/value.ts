/**
 * `Value` and `RawValue`: one number in shared memory (CPython's `multiprocessing.Value`).
 * @module
 */
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames } from "../core/options.ts";
import { memoryOf, type StartMethod } from "../core/start_method.ts";
import { HANDLE, type HandleState, Origin, registerKind } from "../handles/handle.ts";
import { allocate, attach, type BlockRef } from "../memory/arena.ts";
import {
  coerce,
  isBig,
  isInt,
  type Typecode,
  type TypedView,
  type ValueOf,
  viewOf,
} from "../memory/typecode.ts";
import { Lock } from "../sync/lock.ts";
import { RLock } from "../sync/rlock.ts";

/**
 * Options of `new Value()`: `lock` is `true` (a new `RLock`, the default), `false` (none: a
 * `RawValue`'s behaviour) or a lock to share.
 * @example
 * ```ts
 * import { Lock, Value } from "multiproc";
 * const lock = new Lock();
 * const a = new Value("i", 0, { lock });
 * const b = new Value("i", 0, { lock }); // a and b guarded by one lock
 * ```
 */
export interface ValueOptions {
  /** `true` (default): a new `RLock`; a `Lock`/`RLock` of the same context; `false`: none. */
  lock?: boolean | Lock | RLock;
}

/** The names `ValueOptions` takes (`SharedArray`'s too). */
export const VALUE_OPTIONS = { lock: true } as const satisfies OptionNames<ValueOptions>;

interface ValueData {
  ref: BlockRef;
  typecode: Typecode;
  lock: Lock | RLock | null;
}

/**
 * One number in shared memory, without a lock.
 * @example
 * ```ts
 * import { RawValue } from "multiproc";
 * const hits = new RawValue("i", 0);
 * hits.value += 1; // a read, then a write: not atomic
 * ```
 */
export class RawValue<T extends Typecode = Typecode> {
  static readonly kind: string = "RawValue";
  /** The typecode this value was made with. */
  readonly typecode: T;
  /** @internal */
  readonly _ref: BlockRef;
  /** @internal */
  readonly _method: StartMethod;
  readonly #view: TypedView<ValueOf<T>>;
  /** What a store takes as it is: a bigint (`l L q Q`), an integer (`b B h H i I`), a number. */
  readonly #big: boolean;
  readonly #int: boolean;

  constructor(typecode: T, initial?: ValueOf<T>);
  /** @internal */
  constructor(origin: Origin<ValueData>);
  constructor(a: T | Origin<ValueData>, initial?: ValueOf<T>) {
    const origin = Origin.of<ValueData>(a, new.target);
    const revived = origin.revived;
    const typecode = (revived ? revived.typecode : a) as T;
    const what = `${new.target.name}('${typecode}')`;
    const View = viewOf(typecode, what);
    const first = revived || initial === undefined ? undefined : coerce(typecode, initial, what);
    const block = revived
      ? attach(revived.ref)
      : allocate(origin.method, View.BYTES_PER_ELEMENT, 8);
    this.typecode = typecode;
    this._ref = block.ref;
    this._method = block.method;
    this.#big = isBig(typecode);
    this.#int = isInt(typecode);
    this.#view = new View(block.buffer, block.offset, 1) as unknown as TypedView<ValueOf<T>>;
    if (first !== undefined) this.#view[0] = first as ValueOf<T>;
  }

  /** The number in shared memory (a bigint for `l L q Q`). */
  get value(): ValueOf<T> {
    return this.#view[0];
  }
  set value(v: ValueOf<T>) {
    if (
      this.#big
        ? typeof v === "bigint"
        : this.#int
        ? Number.isInteger(v)
        : typeof v === "number"
    ) {
      this.#view[0] = v;
    } else this.#view[0] = coerce(this.typecode, v, `${this.constructor.name}.value`) as ValueOf<T>;
  }

  /** @internal */
  _lock(): Lock | RLock | null {
    return null;
  }

  /** @internal Rebuilds a value over the memory of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): RawValue {
    return new this(origin as Origin<ValueData>);
  }

  [HANDLE](): HandleState {
    return {
      kind: (this.constructor as typeof RawValue).kind,
      method: this._method,
      data: { ref: this._ref, typecode: this.typecode, lock: this._lock() } satisfies ValueData,
    };
  }

  /** For `console.log`. */
  toString(): string {
    return `${this.constructor.name}('${this.typecode}', ${String(this.value)})`;
  }
}

/**
 * One number in shared memory with a lock (by default a new `RLock`): `getLock()`.
 * @example
 * ```ts
 * import { Value } from "multiproc";
 * const balance = new Value("i", 200);
 * {
 *   using _ = balance.getLock().hold();
 *   balance.value += 1;
 * }
 * console.log(balance.value); // 201
 * ```
 */
export class Value<T extends Typecode = Typecode> extends RawValue<T> {
  static override readonly kind: string = "Value";
  readonly #lock: Lock | RLock | null;

  constructor(typecode: T, initial?: ValueOf<T>, options?: ValueOptions);
  /** @internal */
  constructor(origin: Origin<ValueData>);
  constructor(a: T | Origin<ValueData>, initial?: ValueOf<T>, options: ValueOptions = {}) {
    super(a as T, initial);
    const revived = a instanceof Origin ? a.revived : undefined;
    this.#lock = revived ? revived.lock : makeLock(
      checkOptions(options, VALUE_OPTIONS, "Value", "{ lock: false }").lock,
      this._method,
      "Value",
    );
  }

  /** The lock that guards this value; throws if it was made with `lock: false`. */
  getLock(): Lock | RLock {
    if (!this.#lock) {
      throw new TypeError(`${this.toString()} was made with lock: false and has no lock.`);
    }
    return this.#lock;
  }

  /** @internal */
  override _lock(): Lock | RLock | null {
    return this.#lock;
  }
}

/** The lock a `Value` or `SharedArray` gets from its `lock` option. */
export function makeLock(
  option: boolean | Lock | RLock | undefined,
  method: StartMethod,
  what: string,
): Lock | RLock | null {
  if (option === undefined || option === true) return new RLock(Origin.fresh(method));
  if (option === false) return null;
  if (!(option instanceof Lock) && !(option instanceof RLock)) {
    throw new TypeError(`${what}: lock must be true, false, a Lock or an RLock`);
  }
  if (memoryOf(option._method) !== memoryOf(method)) {
    throw new TypeError(
      `${what}: the lock was made for the "${option._method}" start method and the ${what} for `
        + `"${method}"; make both in the same context.`,
    );
  }
  return option;
}

registerKind(RawValue, Value);
shownAsText(RawValue);
