/**
 * A chunk's column (the values of one argument across its calls, or its calls' results) as it
 * crosses to or from a worker. Every channel clones an array item by item, so where the data allow
 * a column crosses in fewer, larger pieces: numbers as the bytes of one typed array (copied in
 * one go), strings as one string and their lengths, records -- plain objects of one shape whose
 * fields are primitives, the rows of a table -- as one column per field. The other side rebuilds
 * the same values.
 * @module
 */

/** A chunk's values: an array, or a typed array of numbers (`numberColumn`). */
export type Column = unknown[] | Float64Array | Int32Array;

/**
 * Numbers as they cross: the buffer of an `Int32Array` (`i32`) or of a `Float64Array` (`f64`).
 * The buffer, not the typed array: Node's serializer (`node:v8`, its child processes' channel)
 * writes a typed array through a JavaScript hook of its own, a buffer in V8's code, which cost
 * the parent of a map over 100 000 numbers ~5 ms a run before the hook's code was warm.
 */
export type NumberColumn = { readonly i32: ArrayBuffer } | { readonly f64: ArrayBuffer };

/** Strings as they cross: joined, and the length of each (UTF-16 code units; `Uint32Array`'s). */
export interface StringColumn {
  readonly text: string;
  readonly lengths: ArrayBuffer;
}

/** Records as they cross: their keys in order, and one column per key. */
export interface RecordColumn {
  readonly keys: string[];
  readonly fields: (unknown[] | NumberColumn | StringColumn)[];
}

/** A column as it crosses. */
export type WireColumn = Column | NumberColumn | StringColumn | RecordColumn;

/** Columns shorter than this stay arrays: the other forms pay off on longer ones. */
const TYPED_MIN = 32;
/** Records with more fields than this cross as objects. */
const MAX_FIELDS = 64;
/**
 * Strings longer than this in all (UTF-16 code units) cross one by one: joined, a chunk of them
 * could pass the longest string a runtime makes (V8: 2^29 - 24), which the array crosses.
 */
const MAX_JOINED = 2 ** 26;

/**
 * `values` as a typed array if every one is a number, else null: a chunk's column of numbers
 * (arguments or results) crosses as bytes, which every channel copies in one go, where an array
 * is cloned item by item. Integers of 32 bits (no `-0`) cross as an `Int32Array`, half the bytes
 * of a `Float64Array` (the rest): Bun's channels copy ~100-150 MB/s here, so bytes count. Reading
 * it back gives the same numbers (`-0` and `NaN` included).
 */
export function numberColumn(values: ArrayLike<unknown>): Float64Array | Int32Array | null {
  const n = values.length;
  if (n < TYPED_MIN || typeof values[0] !== "number") return null;
  // Written straight into an Int32Array while they are integers: converting a Float64Array into
  // one (`new Int32Array(floats)`) ran ~20x slower on V8 than this loop, once warm.
  const ints = new Int32Array(n);
  let i = 0;
  for (; i < n; i++) {
    const x = values[i];
    if (typeof x !== "number" || (x | 0) !== x || Object.is(x, -0)) break;
    ints[i] = x;
  }
  if (i === n) return ints;
  const out = new Float64Array(n);
  for (let j = 0; j < i; j++) out[j] = ints[j];
  for (; i < n; i++) {
    const x = values[i];
    if (typeof x !== "number") return null;
    out[i] = x;
  }
  return out;
}

/**
 * `values` as one string and their lengths if every one is a string, else null: one string
 * crosses in one copy, where an array of strings is cloned string by string (~4x slower on Bun).
 */
export function stringColumn(values: ArrayLike<unknown>): StringColumn | null {
  const n = values.length;
  if (n < TYPED_MIN || typeof values[0] !== "string") return null;
  const lengths = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (typeof x !== "string" || (total += x.length) > MAX_JOINED) return null;
    lengths[i] = x.length;
  }
  return { text: Array.prototype.join.call(values, ""), lengths: lengths.buffer };
}

/**
 * `values` by field if they are records of one shape (plain objects with the same keys in the
 * same order, every field a primitive other than a symbol), else null. Read while encoding: the
 * caller's later changes do not reach the other side.
 */
export function recordColumn(values: ArrayLike<unknown>): RecordColumn | null {
  const n = values.length;
  if (n < TYPED_MIN || !isRecord(values[0])) return null;
  const keys = Object.keys(values[0] as object);
  const m = keys.length;
  // An own "__proto__" would set the prototype of the record rebuilt: it crosses as an object.
  if (m === 0 || m > MAX_FIELDS || keys.includes("__proto__")) return null;
  const fields = keys.map(() => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const v = values[i] as Record<string, unknown>;
    if (!isRecord(v)) return null;
    let j = 0;
    for (const key in v) {
      if (j === m || key !== keys[j]) return null;
      const x = v[key];
      if (typeof x === "object" ? x !== null : typeof x === "symbol" || typeof x === "function") {
        return null;
      }
      fields[j++][i] = x;
    }
    if (j !== m) return null;
  }
  return { keys, fields: fields.map((f) => numberWire(f) ?? stringColumn(f) ?? f) };
}

/** `numberColumn(values)` as it crosses, or null. */
function numberWire(values: ArrayLike<unknown>): NumberColumn | null {
  const typed = numberColumn(values);
  if (typed === null) return null;
  const bytes = typed.buffer as ArrayBuffer; // made here, never shared
  return typed instanceof Int32Array ? { i32: bytes } : { f64: bytes };
}

/**
 * `values` in the form that crosses best (`numberColumn`, `stringColumn`, `recordColumn`), else
 * as it is.
 */
export function wireColumn(values: Column): WireColumn {
  return numberWire(values) ?? stringColumn(values) ?? recordColumn(values) ?? values;
}

/** The values of a column that crossed (the same values `wireColumn` was given). */
export function fromWireColumn(column: WireColumn): Column {
  if (Array.isArray(column) || ArrayBuffer.isView(column)) return column as Column;
  if ("i32" in column) return new Int32Array(column.i32);
  if ("f64" in column) return new Float64Array(column.f64);
  if ("text" in column) return fromStrings(column);
  const keys = column.keys;
  const fields = column.fields.map(fromWireColumn);
  const n = fields[0].length;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const record: Record<string, unknown> = {};
    for (let j = 0; j < keys.length; j++) record[keys[j]] = fields[j][i];
    out[i] = record;
  }
  return out;
}

function fromStrings(column: StringColumn): string[] {
  const text = column.text;
  const lengths = new Uint32Array(column.lengths);
  const out = new Array<string>(lengths.length);
  for (let i = 0, at = 0; i < lengths.length; i++) out[i] = text.slice(at, at += lengths[i]);
  return out;
}

function isRecord(v: unknown): boolean {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}
