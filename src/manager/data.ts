/**
 * The data a `SyncManager` owns, in the manager process: `dict`, `list`, `Namespace`, `Value`,
 * `Array` and the queues. Each method takes the `Caller` first (see `caller.ts`).
 * @module
 */
import { Empty, Full } from "../core/errors.ts";
import { shown } from "../core/options.ts";
import { coerce, viewOf } from "../memory/typecode.ts";
import { type Caller, Managed } from "./caller.ts";

function keyError(what: string, key: unknown): Error {
  const e = new Error(`${what}: no key ${JSON.stringify(key) ?? String(key)}`);
  e.name = "KeyError";
  return e;
}

/** `dict`: a `Map`. */
export class ManagedDict extends Managed {
  static readonly exposed = [
    "get",
    "set",
    "has",
    "delete",
    "keys",
    "values",
    "entries",
    "update",
    "pop",
    "clear",
    "size",
    "toObject",
  ];
  readonly map: Map<unknown, unknown>;
  constructor(init?: unknown) {
    super();
    this.map = new Map(entriesOf(init, "manager.dict()"));
  }
  get(_c: Caller, k: unknown, fallback?: unknown) {
    return this.map.has(k) ? this.map.get(k) : fallback;
  }
  set(_c: Caller, k: unknown, v: unknown) {
    this.map.set(k, v);
  }
  has(_c: Caller, k: unknown) {
    return this.map.has(k);
  }
  delete(_c: Caller, k: unknown) {
    return this.map.delete(k);
  }
  keys() {
    return [...this.map.keys()];
  }
  values() {
    return [...this.map.values()];
  }
  entries() {
    return [...this.map.entries()];
  }
  update(_c: Caller, other: unknown) {
    for (const [k, v] of entriesOf(other, "DictProxy.update()")) this.map.set(k, v);
  }
  pop(_c: Caller, k: unknown, ...fallback: unknown[]) {
    if (!this.map.has(k)) {
      if (fallback.length) return fallback[0];
      throw keyError("DictProxy.pop()", k);
    }
    const v = this.map.get(k);
    this.map.delete(k);
    return v;
  }
  clear() {
    this.map.clear();
  }
  size() {
    return this.map.size;
  }
  toObject() {
    return Object.fromEntries([...this.map].map(([k, v]) => [String(k), v]));
  }
}

function entriesOf(init: unknown, what: string): Iterable<[unknown, unknown]> {
  if (init === undefined || init === null) return [];
  if (init instanceof Map) return init;
  if (Array.isArray(init)) return init as [unknown, unknown][];
  if (typeof init === "object") return Object.entries(init);
  throw new TypeError(`${what}: give an object, a Map or [key, value] pairs, got ${shown(init)}`);
}

function indexIn(length: number, i: unknown, what: string): number {
  if (!Number.isInteger(i)) {
    throw new TypeError(`${what}: the index must be an integer, got ${shown(i)}`);
  }
  const at = (i as number) < 0 ? length + (i as number) : (i as number);
  if (at < 0 || at >= length) {
    throw new RangeError(`${what}: index ${i} is out of range for length ${length}`);
  }
  return at;
}

/** `list`: an array. */
export class ManagedList extends Managed {
  static readonly exposed = ["get", "set", "append", "extend", "pop", "length", "toArray"];
  readonly items: unknown[];
  constructor(init?: unknown) {
    super();
    if (init !== undefined && init !== null && !Array.isArray(init)) {
      throw new TypeError(`manager.list(): give an array, got ${shown(init)}`);
    }
    this.items = [...((init as unknown[] | undefined) ?? [])];
  }
  get(_c: Caller, i: unknown) {
    return this.items[indexIn(this.items.length, i, "ListProxy.get()")];
  }
  set(_c: Caller, i: unknown, v: unknown) {
    this.items[indexIn(this.items.length, i, "ListProxy.set()")] = v;
  }
  append(_c: Caller, v: unknown) {
    this.items.push(v);
  }
  extend(_c: Caller, vs: unknown) {
    if (!Array.isArray(vs)) throw new TypeError("ListProxy.extend(): give an array");
    this.items.push(...vs);
  }
  pop(_c: Caller, i: unknown = -1) {
    return this.items.splice(indexIn(this.items.length, i, "ListProxy.pop()"), 1)[0];
  }
  length() {
    return this.items.length;
  }
  toArray() {
    return [...this.items];
  }
}

/** `Namespace`: named attributes. */
export class ManagedNamespace extends Managed {
  static readonly exposed = ["get", "set", "delete", "toObject"];
  readonly attrs = new Map<string, unknown>();
  constructor(init?: unknown) {
    super();
    for (const [k, v] of entriesOf(init, "manager.Namespace()")) this.attrs.set(String(k), v);
  }
  get(_c: Caller, name: string) {
    if (this.attrs.has(name)) return this.attrs.get(name);
    const e = new Error(`NamespaceProxy.get(): the namespace has no attribute '${name}'`);
    e.name = "AttributeError";
    throw e;
  }
  set(_c: Caller, name: string, v: unknown) {
    this.attrs.set(String(name), v);
  }
  delete(_c: Caller, name: string) {
    return this.attrs.delete(name);
  }
  toObject() {
    return Object.fromEntries(this.attrs);
  }
}

/** `Value(typecode, value)`: one number stored as the typecode does. */
export class ManagedValue extends Managed {
  static readonly exposed = ["get", "set"];
  readonly #cell: { [i: number]: number | bigint };
  readonly #typecode: string;
  constructor(typecode: string, value: unknown = 0) {
    super();
    this.#typecode = typecode;
    const View = viewOf(typecode, "manager.Value()");
    this.#cell = new View(new ArrayBuffer(View.BYTES_PER_ELEMENT), 0, 1);
    this.#cell[0] = coerce(typecode, value, "manager.Value()");
  }
  get() {
    return this.#cell[0];
  }
  set(_c: Caller, v: unknown) {
    this.#cell[0] = coerce(this.#typecode, v, "ValueProxy.set()");
  }
}

/** `Array(typecode, lengthOrValues)`: a typed array. */
export class ManagedArray extends Managed {
  static readonly exposed = ["get", "set", "length", "toArray"];
  readonly #items: { [i: number]: number | bigint; length: number };
  readonly #typecode: string;
  constructor(typecode: string, init: unknown) {
    super();
    this.#typecode = typecode;
    const View = viewOf(typecode, "manager.Array()");
    const make = (n: number) => new View(new ArrayBuffer(n * View.BYTES_PER_ELEMENT), 0, n);
    if (typeof init === "number" && Number.isInteger(init) && init >= 0) this.#items = make(init);
    else if (Array.isArray(init)) {
      this.#items = make(init.length);
      init.forEach((v, i) => (this.#items[i] = coerce(typecode, v, "manager.Array()")));
    } else throw new TypeError("manager.Array(): give a length or an array of values");
  }
  get(_c: Caller, i: unknown) {
    return this.#items[indexIn(this.#items.length, i, "ArrayProxy.get()")];
  }
  set(_c: Caller, i: unknown, v: unknown) {
    const at = indexIn(this.#items.length, i, "ArrayProxy.set()");
    this.#items[at] = coerce(this.#typecode, v, "ArrayProxy.set()");
  }
  length() {
    return this.#items.length;
  }
  toArray() {
    return Array.from(this.#items as ArrayLike<number | bigint>);
  }
}

/** `Queue(maxsize)`: FIFO; `Empty`/`Full` as `Queue` has them. */
export class ManagedQueue extends Managed {
  static readonly exposed = ["put", "get", "qsize", "empty", "full"];
  readonly items: unknown[] = [];
  readonly maxsize: number;
  constructor(maxsize: unknown = 0) {
    super();
    if (!Number.isInteger(maxsize) || (maxsize as number) < 0) {
      throw new RangeError(`manager.Queue(maxsize): an integer >= 0, got ${shown(maxsize)}`);
    }
    this.maxsize = maxsize as number;
  }
  full() {
    return this.maxsize > 0 && this.items.length >= this.maxsize;
  }
  async put(c: Caller, obj: unknown, o?: { block?: boolean; timeout?: number }) {
    const tryPut = () => !this.full() && this.items.push(obj) > 0;
    const ok = o?.block === false
      ? tryPut()
      : await this.waiters.until(tryPut, o?.timeout, c, "QueueProxy.put()");
    if (!ok) throw new Full("QueueProxy.put(): the queue is full");
    this.onPut();
    this.waiters.wakeAll();
  }
  async get(c: Caller, o?: { block?: boolean; timeout?: number }) {
    let item: unknown;
    const tryGet = () => this.items.length > 0 && ((item = this.items.shift()), true);
    const ok = o?.block === false
      ? tryGet()
      : await this.waiters.until(tryGet, o?.timeout, c, "QueueProxy.get()");
    if (!ok) throw new Empty("QueueProxy.get(): the queue is empty");
    this.waiters.wakeAll();
    return item;
  }
  qsize() {
    return this.items.length;
  }
  empty() {
    return this.items.length === 0;
  }
  protected onPut(): void {}
}

/** `JoinableQueue(maxsize)`. */
export class ManagedJoinableQueue extends ManagedQueue {
  static override readonly exposed = [...ManagedQueue.exposed, "taskDone", "join"];
  #unfinished = 0;
  protected override onPut() {
    this.#unfinished++;
  }
  taskDone() {
    if (this.#unfinished === 0) {
      throw new Error("JoinableQueueProxy.taskDone(): called more times than items were put");
    }
    this.#unfinished--;
    this.waiters.wakeAll();
  }
  join(c: Caller, timeoutMs?: number) {
    return this.waiters.until(
      () => this.#unfinished === 0,
      timeoutMs,
      c,
      "JoinableQueueProxy.join()",
    );
  }
}
