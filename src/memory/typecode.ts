/**
 * Typecodes of `Value` and `SharedArray`, as in ctypes and Python's `array` module.
 * @module
 */
import { shown } from "../core/options.ts";

/**
 * A typecode: `b B h H i I` (8-32-bit ints), `l L q Q` (64-bit, read as bigint), `f d`.
 * @example
 * ```ts
 * import { type Typecode, Value } from "multiproc";
 * const code: Typecode = "d";
 * const x = new Value(code, 0.5);
 * ```
 */
export type Typecode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d";

/**
 * The JavaScript type a typecode reads as.
 * @example
 * ```ts
 * import type { ValueOf } from "multiproc";
 * const small: ValueOf<"i"> = 1; // number
 * const big: ValueOf<"q"> = 1n; // bigint
 * ```
 */
export type ValueOf<T extends Typecode> = T extends "l" | "L" | "q" | "Q" ? bigint : number;

type View =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface ViewConstructor {
  new(buffer: ArrayBufferLike, byteOffset: number, length: number): View;
  readonly BYTES_PER_ELEMENT: number;
}

const VIEWS: Record<Typecode, ViewConstructor> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
};

/** A typed array over shared memory whose elements read as numbers or bigints. */
export interface TypedView<V> {
  [index: number]: V;
  readonly length: number;
}

/** The typed-array constructor of `typecode`; throws a clear error for an unknown one. */
export function viewOf(typecode: string, what: string): ViewConstructor {
  const view = Object.hasOwn(VIEWS, typecode) ? VIEWS[typecode as Typecode] : undefined;
  if (!view) {
    throw new TypeError(
      `${what}: unknown typecode ${JSON.stringify(typecode)}; use one of `
        + `${Object.keys(VIEWS).join(" ")} (l L q Q are 64-bit and read as bigint).`,
    );
  }
  return view;
}

/** Whether `typecode` holds 64-bit integers (bigint). */
export function isBig(typecode: string): boolean {
  return "lLqQ".includes(typecode);
}

/** Whether `typecode` holds 8-32-bit integers (a number with a fraction is refused). */
export function isInt(typecode: string): boolean {
  return "bBhHiI".includes(typecode);
}

/**
 * Converts `v` to what `typecode` stores, or throws a clear error. As ctypes does, an integer
 * typecode refuses a number with a fraction (and NaN, Infinity) rather than truncating it, and
 * keeps only the low bits of an integer too large for it.
 */
export function coerce(typecode: string, v: unknown, what: string): number | bigint {
  if (isBig(typecode)) {
    if (typeof v === "bigint") return v;
    if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
    if (typeof v === "boolean") return BigInt(v); // as the 8-32-bit ones, and ctypes
    throw new TypeError(
      `${what}: typecode '${typecode}' holds 64-bit integers; give a bigint, got ${shown(v)}`,
    );
  }
  if (typeof v === "number") {
    if (Number.isInteger(v) || !isInt(typecode)) return v;
    throw new TypeError(
      `${what}: typecode '${typecode}' holds integers, got ${v}; round it first `
        + `(Math.round, Math.trunc) or use typecode 'd' for fractions.`,
    );
  }
  if (typeof v === "boolean") return Number(v);
  throw new TypeError(
    `${what}: typecode '${typecode}' holds numbers, got ${shown(v)}`
      + (typeof v === "bigint"
        ? `; convert it with Number(), or use typecode 'q' for bigints`
        : ""),
  );
}
