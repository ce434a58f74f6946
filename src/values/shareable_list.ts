/**
 * `ShareableList`: a fixed-length list of numbers, booleans, strings, bytes and nulls in a named
 * shared-memory segment (CPython's `multiprocessing.shared_memory.ShareableList`), built on
 * `SharedMemory` and laid out exactly as CPython 3.9+ lays it out (bpo-38891), so a Python program
 * attaches to our list by name and we to one it made. The segment, little-endian:
 *
 * ```text
 * 8 bytes           N, the number of slots (int64)
 * (N + 1) * 8 bytes offsets of the slots in the data area (int64), the last one its end
 * K bytes           the data area: each slot 8 bytes (a string's or bytes' capacity: its UTF-8
 *                   length rounded up past the next multiple of 8) at data start + offset
 * N * 8 bytes       each slot's struct format, NUL-padded: "q", "d", "xxxxxxx?" (a bool),
 *                   "xxxxxx?x" (None), "<capacity>s" (a string or bytes)
 * N bytes           each slot's kind: 0 a number or bool, 1 a string, 2 bytes, 3 None
 * ```
 * @module
 */
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import { BOUND_METHOD, HANDLE, type HandleState, Origin, registerKind } from "../handles/handle.ts";
import { TrackerFull } from "../memory/tracker.ts";
import { indexed, nonNumberIndex, readOnly } from "./indexed.ts";
import {
  ALIGN,
  describe,
  encode,
  MAX_BYTES,
  readSlot,
  same,
  type ShareableItem,
  type Slot,
  type SlotPlace,
  writeSlot,
} from "./shareable_slot.ts";
import { SharedMemory } from "./shared_memory.ts";

export type { ShareableItem } from "./shareable_slot.ts";

/**
 * Options of `new ShareableList()`: the segment's `name`, to create the list under (with
 * values) or to attach to (with `null` values).
 * @example
 * ```ts
 * import { ShareableList } from "multiproc";
 * const made = new ShareableList([1, "one"], { name: `demo_${Date.now()}` });
 * const seen = new ShareableList(null, { name: made.name }); // as another process would
 * console.log(seen.get(1)); // "one"
 * made.unlink();
 * ```
 */
export interface ShareableListOptions {
  /** The segment's name (without a leading `/`); a fresh `mp_...` one when creating without. */
  name?: string;
}

const LIST_OPTIONS = { name: true } as const satisfies OptionNames<ShareableListOptions>;

/** A SharedMemory class whose objects belong to start method `method` (as `getContext` binds). */
const shmClasses = new Map<StartMethod, typeof SharedMemory>();
function shmOf(method: StartMethod): typeof SharedMemory {
  let cls = shmClasses.get(method);
  if (!cls) {
    cls = { SharedMemory: class extends SharedMemory {} }.SharedMemory;
    Object.defineProperty(cls, BOUND_METHOD, { value: method });
    shmClasses.set(method, cls);
  }
  return cls;
}

/**
 * A fixed-length list in a named shared-memory segment, in CPython's layout. Each slot holds a
 * number, bigint (64-bit signed), boolean, string, `Uint8Array` or `null`, and may change type;
 * a string or bytes slot keeps the capacity it was made with (its UTF-8 length rounded up past
 * the next multiple of 8; other slots 8 bytes), and a longer one throws a `RangeError`.
 * `new ShareableList(values, { name? })` makes a list; `new ShareableList(null, { name })`
 * attaches to one made elsewhere (another process, or Python). `list[i]`, `get(i)` and `set(i, v)`
 * take negative indices from the end, as Python does. Safe integers and bigints are stored as
 * int64 and read back as numbers (beyond `Number.MAX_SAFE_INTEGER` as bigints), other numbers as
 * float64; as in CPython, trailing NUL bytes of a string or bytes are dropped when read. There
 * is no lock: a read may see another process's write half done; guard the list with a `Lock` if
 * that matters.
 * The list crosses to children as a handle; under both start methods it lives in a named OS
 * segment, as `SharedMemory` does, unlinked when the main process exits if nobody did.
 * @example
 * ```ts
 * import { ShareableList } from "multiproc";
 * const list = new ShareableList([1, 2.5, "text", true, null, new Uint8Array([1, 2])]);
 * list[0] = 42;
 * list.set(2, "other"); // up to 8 UTF-8 bytes here, as "text" was made with
 * list[-1] = null; // a slot may change type
 * console.log([...list], list.format); // [42, 2.5, "other", true, null, null] "qd8sxxxxxxx?..."
 * const again = new ShareableList(null, { name: list.name }); // in this or any process
 * console.log(again.length); // 6
 * list.unlink();
 * ```
 */
export class ShareableList implements Iterable<ShareableItem> {
  static readonly kind: string = "ShareableList";
  [index: number]: ShareableItem;
  /** The shared-memory segment that holds the list. */
  readonly shm!: SharedMemory;
  /** Number of slots (fixed). */
  readonly length!: number;
  readonly #method: StartMethod;
  readonly #offsets: number[] = [];
  #view: DataView | null = null;

  constructor(values: Iterable<ShareableItem> | null, options?: ShareableListOptions);
  /** @internal */
  constructor(origin: Origin<{ name: string }>);
  constructor(
    a: Iterable<ShareableItem> | null | Origin<{ name: string }>,
    options: ShareableListOptions = {},
  ) {
    const origin = Origin.of<{ name: string }>(a, new.target);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `new ShareableList(): options must be an object such as { name }, got ${describe(options)}`,
      );
    }
    // An unknown option ({ Name }) was ignored: a list was made where one was to be attached.
    checkOptions(options, LIST_OPTIONS, "new ShareableList()", "{ name: 'mp_...' }");
    this.#method = origin.method;
    const Shm = shmOf(origin.method);
    const name = origin.revived?.name ?? options.name;
    let shm: SharedMemory;
    if (a instanceof Origin || (a == null && name !== undefined)) {
      shm = new Shm({ name });
      this.#adopt(shm);
    } else {
      const items = ShareableList.#items(a);
      const slots = items.map((v, i) => encode(v, `new ShareableList(): item ${i}`));
      let end = 0;
      this.#offsets.push(0);
      slots.forEach((s, i) => {
        if (s.bytes && s.bytes.length > MAX_BYTES) {
          throw new RangeError(
            `new ShareableList(): item ${i} is ${describe(items[i])}, more than a slot holds `
              + `(${MAX_BYTES} bytes: CPython's slot format has at most 8 characters); keep it `
              + `in a SharedMemory of its own`,
          );
        }
        end += s.bytes ? ALIGN * (Math.floor(s.bytes.length / ALIGN) + 1) : ALIGN;
        this.#offsets.push(end);
      });
      const n = items.length;
      shm = ShareableList.#create(Shm, 8 + 8 * (n + 1) + end + 8 * n + n, name);
      readOnly(this, { shm, length: n }); // the layout follows the length
      const view = this.#data();
      view.setBigInt64(0, BigInt(n), true);
      this.#offsets.forEach((o, i) => view.setBigInt64(8 * (i + 1), BigInt(o), true));
      items.forEach((v, i) => this.#write(i, v, slots[i]));
    }
    return indexed(this);
  }

  /** A segment for a new list; the tracker's limit said in the list's terms (no `track` here). */
  static #create(Shm: typeof SharedMemory, size: number, name: string | undefined): SharedMemory {
    try {
      return new Shm({ create: true, size, name });
    } catch (error) {
      if (!(error instanceof TrackerFull)) throw error;
      throw new TrackerFull(
        `new ShareableList(): ${TrackerFull.limit} named segments are alive already (lists, `
          + `SharedMemory, large queue messages not yet read); unlink() the lists no longer needed`,
        { cause: error },
      );
    }
  }

  static #items(values: Iterable<ShareableItem> | null | undefined): ShareableItem[] {
    if (values == null) return []; // CPython: ShareableList() is an empty list
    if (typeof values === "string") {
      throw new TypeError(
        `new ShareableList(): values must be an iterable of items, not a string; to attach by `
          + `name use new ShareableList(null, { name: ${JSON.stringify(values)} })`,
      );
    }
    if (typeof (values as Iterable<ShareableItem>)[Symbol.iterator] !== "function") {
      throw new TypeError(
        `new ShareableList(): give an iterable of values (or null and { name } to attach), got `
          + describe(values),
      );
    }
    return [...values];
  }

  /** Reads the header of a segment made elsewhere, checking that it holds a ShareableList. */
  #adopt(shm: SharedMemory): void {
    const size = shm.size;
    const bad = (why: string) => {
      shm.close();
      return new TypeError(
        `new ShareableList(null, { name: '${shm.name}' }): that segment does not hold a `
          + `ShareableList (${why}); give the name of one made by ShareableList here or in Python`,
      );
    };
    if (size < 16) throw bad(`${size} bytes`);
    const view = new DataView(shm.buf.buffer, shm.buf.byteOffset, size);
    const n = Number(view.getBigInt64(0, true));
    if (n < 0 || 8 * (n + 2) > size) throw bad(`its length word says ${n}`);
    for (let i = 0; i <= n; i++) this.#offsets.push(Number(view.getBigInt64(8 * (i + 1), true)));
    const o = this.#offsets;
    if (o[0] !== 0 || o.some((x, i) => i > 0 && x - o[i - 1] < ALIGN)) throw bad("bad offsets");
    if (8 * (n + 2) + o[n] + 9 * n > size) throw bad("its slots run past its end");
    readOnly(this, { shm, length: n }); // the layout follows the length
  }

  #data(): DataView {
    if (this.#view) return this.#view;
    const buf = this.shm.buf; // throws once closed
    return this.#view = new DataView(buf.buffer, buf.byteOffset, this.shm.size);
  }

  get #start(): number {
    return 8 * (this.length + 2);
  }

  /** Where the slot formats begin. */
  get #formats(): number {
    return this.#start + this.#offsets[this.length];
  }

  #index(i: number, what: string): number {
    const n = this.length;
    if (typeof i !== "number") throw nonNumberIndex(`ShareableList.${what}`, i);
    const j = i < 0 ? i + n : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw new RangeError(`ShareableList.${what}(${i}): index out of range (length ${n})`);
    }
    return j;
  }

  #formatOf(j: number): string {
    const view = this.#data();
    const at = this.#formats + 8 * j;
    let end = at;
    while (end < at + 8 && view.getUint8(end) !== 0) end++;
    return String.fromCharCode(...new Uint8Array(view.buffer, view.byteOffset + at, end - at));
  }

  #write(j: number, v: unknown, slot: Slot): void {
    const view = this.#data();
    const capacity = this.#offsets[j + 1] - this.#offsets[j];
    if (slot.bytes && slot.bytes.length > capacity) {
      throw new RangeError(
        `ShareableList.set(${j}, ...): ${describe(v)} exceeds the slot's storage of `
          + `${capacity} bytes (fixed when the list was made; CPython's "bytes/str item exceeds `
          + `available storage"); make the list with a longer value in that slot`,
      );
    }
    writeSlot(view, this.#place(j), v, slot);
  }

  /** Where slot `j`'s value, format and kind are. */
  #place(j: number): SlotPlace {
    const formats = this.#formats;
    return {
      at: this.#start + this.#offsets[j],
      capacity: this.#offsets[j + 1] - this.#offsets[j],
      format: formats + 8 * j,
      kind: formats + 8 * this.length + j,
    };
  }

  /** Item `i` (negative counts from the end). */
  get(i: number): ShareableItem {
    const j = this.#index(i, "get");
    const view = this.#data();
    const format = this.#formatOf(j);
    const value = readSlot(view, this.#place(j), format);
    if (value !== undefined) return value;
    throw new Error(
      `ShareableList.get(${i}): slot ${j} holds format ${JSON.stringify(format)}, which no `
        + `ShareableList writes (a writer that died mid-write?); set(${j}, value) rewrites it`,
    );
  }

  /** Sets item `i` (negative counts from the end); a slot may change type. */
  set(i: number, value: ShareableItem): void {
    const j = this.#index(i, "set");
    this.#write(j, value, encode(value, `ShareableList.set(${i}, ...)`));
  }

  /** A plain array copy of the items. */
  toArray(): ShareableItem[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  /** Iterates the items. */
  *[Symbol.iterator](): Iterator<ShareableItem> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /**
   * How many items equal `value`: numbers and bigints by value (`5` and `5n` are equal, `NaN`
   * equals nothing, as in Python), bytes by contents, the rest with `===`.
   */
  count(value: ShareableItem): number {
    let n = 0;
    for (const v of this) if (same(v, value)) n++;
    return n;
  }

  /** The index of the first item equal to `value` (as `count` compares); throws if none is. */
  index(value: ShareableItem): number {
    let i = 0;
    for (const v of this) {
      if (same(v, value)) return i;
      i++;
    }
    throw new Error(
      `ShareableList.index(${describe(value)}): not in the list; check with count() first`,
    );
  }

  /** The struct format of every slot, joined, as CPython's `format` (e.g. `"qd8s"`). */
  get format(): string {
    return Array.from({ length: this.length }, (_, j) => this.#formatOf(j)).join("");
  }

  /** The segment's name, as given to `new ShareableList(null, { name })` elsewhere. */
  get name(): string {
    return this.shm.name;
  }

  /** Stops using the list from this object (others keep theirs); items throw afterwards. */
  close(): void {
    this.#view = null;
    this.shm.close();
  }

  /** Removes the segment's name: no one can attach any more; freed once all have closed. */
  unlink(): void {
    this.shm.unlink();
  }

  /** @internal Attaches to the list of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): ShareableList {
    return new ShareableList(origin as Origin<{ name: string }>);
  }

  [HANDLE](): HandleState {
    // A named /dev/shm segment under every method: it crosses to children of either.
    return {
      kind: ShareableList.kind,
      method: this.#method,
      data: { name: this.name },
      portable: true,
    };
  }

  /** For `console.log`, as CPython's repr. */
  toString(): string {
    const show = (v: ShareableItem) => typeof v === "string" ? JSON.stringify(v) : describe(v);
    return `ShareableList([${this.toArray().map(show).join(", ")}], name='${this.name}')`;
  }
}

registerKind(ShareableList);
shownAsText(ShareableList);
