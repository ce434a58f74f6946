/**
 * One slot of a `ShareableList` (shareable_list.ts): what it may hold, how an item is stored in it
 * (its struct format, its kind, its bytes) and read back, in CPython's layout.
 * @module
 */

/**
 * What a slot of a `ShareableList` holds.
 * @example
 * ```ts
 * import type { ShareableItem } from "multiproc";
 * const items: ShareableItem[] = [1, 2n ** 60n, 0.5, true, "text", new Uint8Array([1]), null];
 * ```
 */
export type ShareableItem = number | bigint | boolean | string | Uint8Array | null;

/** Slots are 8-byte aligned; a string or bytes slot takes its length rounded up past 8. */
export const ALIGN = 8;
const Q = "q", D = "d", BOOL = "xxxxxxx?", NONE = "xxxxxx?x";
const VALUE = 0, STR = 1, BYTES = 2, NULL = 3;
const INT64 = 2n ** 63n;
/** The longest string or bytes a slot takes: its format "9999992s" has 8 characters. */
export const MAX_BYTES = 9_999_991;
const KINDS = "a number, bigint, boolean, string, Uint8Array or null";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A value as an error message names it. */
export function describe(v: unknown): string {
  if (typeof v === "function") return `a function (${v.name || "anonymous"})`;
  if (typeof v === "string") return `a string of ${utf8.encode(v).length} bytes`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  if (typeof v === "object" && v !== null) return `an object (${v.constructor?.name ?? "null"})`;
  if (typeof v === "bigint") return `${v}n`;
  if (v === undefined) return "undefined";
  return "a symbol";
}

/** How an item is stored: its format, its kind and (a string, bytes) its bytes. */
export interface Slot {
  format: string;
  code: number;
  bytes?: Uint8Array;
}

/** Checks an item and says how it is stored; errors name the call (`what`). */
export function encode(v: unknown, what: string): Slot {
  if (typeof v === "number") {
    return { format: Number.isSafeInteger(v) && !Object.is(v, -0) ? Q : D, code: VALUE };
  }
  if (typeof v === "bigint") {
    if (v < -INT64 || v >= INT64) {
      throw new RangeError(
        `${what}: ${v}n does not fit a 64-bit signed slot (-(2n ** 63n) to 2n ** 63n - 1n); `
          + `store it as a string`,
      );
    }
    return { format: Q, code: VALUE };
  }
  if (typeof v === "boolean") return { format: BOOL, code: VALUE };
  if (v === null) return { format: NONE, code: NULL };
  if (typeof v === "string") return { format: "s", code: STR, bytes: utf8.encode(v) };
  if (v instanceof Uint8Array) return { format: "s", code: BYTES, bytes: v };
  throw new TypeError(
    `${what}: a slot holds ${KINDS}, got ${describe(v)}`
      + (v === undefined ? "; use null for an empty slot" : "")
      + (ArrayBuffer.isView(v) || v instanceof ArrayBuffer ? "; wrap it in a Uint8Array" : ""),
  );
}

/** Where slot `j`'s parts are in the segment (byte offsets), and its capacity. */
export interface SlotPlace {
  /** Its value, `capacity` bytes. */
  at: number;
  capacity: number;
  /** Its 8-byte format. */
  format: number;
  /** Its 1-byte kind. */
  kind: number;
}

/** Stores `v`, checked by `encode` into `slot` and fitting its capacity, at `place`. */
export function writeSlot(view: DataView, place: SlotPlace, v: unknown, slot: Slot): void {
  const { at, capacity } = place;
  const format = slot.bytes ? `${capacity}s` : slot.format;
  // As CPython: the format and kind first, then the value.
  let packed = 0n; // the format's 8 bytes in one store
  for (let k = format.length - 1; k >= 0; k--) {
    packed = (packed << 8n) | BigInt(format.charCodeAt(k));
  }
  view.setBigUint64(place.format, packed, true);
  view.setInt8(place.kind, slot.code);
  if (slot.bytes) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + at, capacity);
    bytes.set(slot.bytes);
    bytes.fill(0, slot.bytes.length);
  } else if (format === Q) view.setBigInt64(at, BigInt(v as number | bigint), true);
  else if (format === D) view.setFloat64(at, v as number, true);
  else view.setBigUint64(at, v === true ? 1n << 56n : 0n, true); // "xxxxxxx?", "xxxxxx?x"
}

/** The item at `place`, whose format is `format`; undefined for a format no list writes. */
export function readSlot(
  view: DataView,
  place: SlotPlace,
  format: string,
): ShareableItem | undefined {
  const { at } = place;
  const code = view.getInt8(place.kind);
  // The format decides; the kind only tells a string from bytes, and None. (A writer stopped
  // between the two leaves a readable slot.)
  if (code === NULL || format === NONE) return null;
  const sized = /^(\d+)s$/.exec(format);
  if (sized && Number(sized[1]) <= place.capacity) {
    let end = at + Number(sized[1]);
    while (end > at && view.getUint8(end - 1) === 0) end--;
    const bytes = new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + end));
    return code === STR ? fromUtf8.decode(bytes) : bytes;
  }
  if (format === Q) {
    const big = view.getBigInt64(at, true);
    const n = Number(big);
    return Number.isSafeInteger(n) ? n : big;
  }
  if (format === D) return view.getFloat64(at, true);
  if (format === BOOL) return view.getUint8(at + 7) !== 0;
  return undefined;
}

/** Whether two items are equal as Python compares them (`5 == 5n`; bytes by content). */
export function same(a: ShareableItem, b: ShareableItem): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  const numeric = (x: unknown) => typeof x === "number" || typeof x === "bigint";
  // deno-lint-ignore eqeqeq
  if (numeric(a) && numeric(b)) return a == b; // 5 == 5n; NaN equals nothing
  return a === b;
}
