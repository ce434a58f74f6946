/**
 * The objects a `SyncManager` owns, in the manager process: plain JavaScript data, and the
 * synchronization primitives rebuilt on the event loop (a wait is a Promise, never a blocked
 * thread, so one waiting caller holds up nobody). Each method takes the `Caller` first: who asks,
 * for ownership (an `RLock` is re-entrant per caller) and for what happens when a caller's
 * connection is lost mid-wait: its waits end, the locks it held are released, and a barrier it
 * waited at breaks, so the other processes do not wait for a dead one.
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { BrokenBarrierError, Empty, Full } from "../core/errors.ts";
import { coerce, viewOf } from "../memory/typecode.ts";

/** Who calls: one connection to the manager (one process, or one program). */
export class Caller {
  readonly id: number;
  lost = false;
  readonly #onLost = new Set<() => void>();
  constructor(id: number) {
    this.id = id;
  }
  /** Runs `fn` when the connection is lost (once); returns how to forget it. */
  whenLost(fn: () => void): () => void {
    this.#onLost.add(fn);
    return () => this.#onLost.delete(fn);
  }
  /** Marks the caller lost and runs what waits for that. */
  lose(): void {
    this.lost = true;
    for (const fn of [...this.#onLost]) fn();
    this.#onLost.clear();
  }
}

/** Thrown into a wait whose caller is gone; never reaches anybody. */
export class CallerLost extends Error {}

/** The waits on one object: each is woken on every change and looks again. */
class Waiters {
  readonly #wakes = new Set<() => void>();

  wakeAll(): void {
    for (const wake of [...this.#wakes]) wake();
  }

  /** Waits until `tryTake()` succeeds (true), or `timeoutMs` passes (false). */
  async until(
    tryTake: () => boolean,
    timeoutMs: number | undefined,
    caller: Caller,
    what: string,
  ): Promise<boolean> {
    const deadline = new Deadline(what, timeoutMs);
    for (;;) {
      if (tryTake()) return true;
      if (deadline.expired()) return false;
      await new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const wake = () => {
          this.#wakes.delete(wake);
          forget();
          clearTimeout(timer);
          resolve();
        };
        const forget = caller.whenLost(wake);
        this.#wakes.add(wake);
        const left = deadline.remaining();
        if (Number.isFinite(left)) timer = setTimeout(wake, Math.min(left, 0x7fffffff));
      });
      if (caller.lost) throw new CallerLost();
    }
  }
}

type AcquireOptions = { blocking?: boolean; timeout?: number } | undefined;

/** Base of the manager's own objects: their methods take the caller first. */
export abstract class Managed {
  protected readonly waiters = new Waiters();
  /** The caller's connection was lost: give back what it held. */
  lost(_caller: Caller): void {}
}

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
  throw new TypeError(`${what}: give an object, a Map or [key, value] pairs, got ${typeof init}`);
}

function indexIn(length: number, i: unknown, what: string): number {
  if (!Number.isInteger(i)) throw new TypeError(`${what}: the index must be an integer, got ${i}`);
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
      throw new TypeError(`manager.list(): give an array, got ${typeof init}`);
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
      throw new RangeError(`manager.Queue(maxsize): an integer >= 0, got ${maxsize}`);
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
    return this.waiters.until(() => this.#unfinished === 0, timeoutMs, c, "join()");
  }
}

/** `Lock` (`RLock` with `reentrant`): owned by a caller. */
export class ManagedLock extends Managed {
  static readonly exposed = ["acquire", "release", "locked"];
  owner: number | null = null;
  count = 0;
  readonly #reentrant: boolean;
  constructor(reentrant = false) {
    super();
    this.#reentrant = reentrant;
  }
  tryAcquire(c: Caller): boolean {
    if (this.owner === null) {
      this.owner = c.id;
      this.count = 1;
      return true;
    }
    if (this.#reentrant && this.owner === c.id) return ++this.count > 0;
    return false;
  }
  acquire(c: Caller, o: AcquireOptions) {
    if (o?.blocking === false) return this.tryAcquire(c);
    return this.waiters.until(() => this.tryAcquire(c), o?.timeout, c, "acquire()");
  }
  release(c: Caller) {
    const name = this.#reentrant ? "RLockProxy" : "LockProxy";
    if (this.owner === null) {
      throw new Error(`${name}.release(): the lock is not held; acquire() it first.`);
    }
    if (this.#reentrant && this.owner !== c.id) {
      throw new Error(`${name}.release(): the lock is held by another process.`);
    }
    if (--this.count > 0) return;
    this.owner = null;
    this.waiters.wakeAll();
  }
  locked() {
    return this.owner !== null;
  }
  override lost(c: Caller) {
    if (this.owner !== c.id) return;
    this.owner = null;
    this.count = 0;
    this.waiters.wakeAll();
  }
}

/** `Semaphore(value)` (`BoundedSemaphore` with `bounded`). */
export class ManagedSemaphore extends Managed {
  static readonly exposed = ["acquire", "release", "getValue"];
  #value: number;
  readonly #bound: number | null;
  constructor(value: unknown = 1, bounded = false) {
    super();
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(`manager.Semaphore(value): an integer >= 0, got ${value}`);
    }
    this.#value = value as number;
    this.#bound = bounded ? this.#value : null;
  }
  acquire(c: Caller, o: AcquireOptions) {
    const take = () => this.#value > 0 && this.#value-- > 0;
    if (o?.blocking === false) return take();
    return this.waiters.until(take, o?.timeout, c, "SemaphoreProxy.acquire()");
  }
  release() {
    if (this.#bound !== null && this.#value >= this.#bound) {
      throw new Error("BoundedSemaphoreProxy.release(): released more times than acquired");
    }
    this.#value++;
    this.waiters.wakeAll();
  }
  getValue() {
    return this.#value;
  }
}

/** `Event`. */
export class ManagedEvent extends Managed {
  static readonly exposed = ["set", "clear", "isSet", "wait"];
  #flag = false;
  set() {
    this.#flag = true;
    this.waiters.wakeAll();
  }
  clear() {
    this.#flag = false;
  }
  isSet() {
    return this.#flag;
  }
  wait(c: Caller, timeoutMs?: number) {
    return this.waiters.until(() => this.#flag, timeoutMs, c, "EventProxy.wait()");
  }
}

/** `Condition(lock?)`: over a manager's `Lock`/`RLock` (a new `RLock` by default). */
export class ManagedCondition extends Managed {
  static readonly exposed = ["acquire", "release", "wait", "notify", "notifyAll"];
  readonly lock: ManagedLock;
  readonly #sleepers: { notified: boolean }[] = [];
  constructor(lock?: unknown) {
    super();
    if (lock !== undefined && !(lock instanceof ManagedLock)) {
      throw new TypeError("manager.Condition(lock): give a Lock or RLock of the same manager");
    }
    this.lock = lock ?? new ManagedLock(true);
  }
  acquire(c: Caller, o: AcquireOptions) {
    return this.lock.acquire(c, o);
  }
  release(c: Caller) {
    this.lock.release(c);
  }
  #checkOwner(c: Caller, what: string) {
    if (this.lock.owner !== c.id) {
      throw new Error(
        `ConditionProxy.${what}(): the lock is not held by this process; acquire() it first.`,
      );
    }
  }
  async wait(c: Caller, timeoutMs?: number) {
    this.#checkOwner(c, "wait");
    const me = { notified: false };
    this.#sleepers.push(me);
    const depth = this.lock.count;
    this.lock.count = 1;
    this.lock.release(c);
    try {
      return await this.waiters.until(() => me.notified, timeoutMs, c, "ConditionProxy.wait()");
    } finally {
      const at = this.#sleepers.indexOf(me);
      if (at >= 0) this.#sleepers.splice(at, 1);
      if (!c.lost) {
        await this.lock.acquire(c, undefined);
        this.lock.count = depth;
      }
    }
  }
  notify(c: Caller, n = 1) {
    this.#checkOwner(c, "notify");
    for (const s of this.#sleepers) {
      if (n <= 0) break;
      if (!s.notified) {
        s.notified = true;
        n--;
      }
    }
    this.waiters.wakeAll();
  }
  notifyAll(c: Caller) {
    this.notify(c, Infinity);
  }
  override lost(c: Caller) {
    this.lock.lost(c);
  }
}

interface Round {
  count: number;
  released: boolean;
  broken: boolean;
}

/** `Barrier(parties, { timeout })`: a caller lost while waiting breaks it. */
export class ManagedBarrier extends Managed {
  static readonly exposed = ["wait", "reset", "abort", "parties", "nWaiting", "broken"];
  readonly #parties: number;
  readonly #timeout: number | undefined;
  #round: Round = { count: 0, released: false, broken: false };
  constructor(parties: unknown, options?: { timeout?: number }) {
    super();
    if (!Number.isInteger(parties) || (parties as number) < 1) {
      throw new RangeError(`manager.Barrier(parties): an integer >= 1, got ${parties}`);
    }
    this.#parties = parties as number;
    this.#timeout = options?.timeout;
  }
  async wait(c: Caller, timeoutMs?: number) {
    const r = this.#round;
    if (r.broken) throw new BrokenBarrierError("BarrierProxy.wait(): the barrier is broken");
    const index = r.count++;
    if (r.count === this.#parties) {
      r.released = true;
      this.#round = { count: 0, released: false, broken: false };
      this.waiters.wakeAll();
      return index;
    }
    let passed = false;
    try {
      passed = await this.waiters.until(
        () => r.released || r.broken,
        timeoutMs ?? this.#timeout,
        c,
        "BarrierProxy.wait()",
      );
    } finally {
      if (!r.released && !passed) this.#break(r);
    }
    if (r.released) return index;
    throw new BrokenBarrierError(
      passed ? "BarrierProxy.wait(): the barrier was broken" : "BarrierProxy.wait(): timed out",
    );
  }
  #break(r: Round) {
    r.broken = true;
    this.waiters.wakeAll();
  }
  reset() {
    if (this.#round.count > 0 || this.#round.broken) this.#break(this.#round);
    this.#round = { count: 0, released: false, broken: false };
  }
  abort() {
    this.#break(this.#round);
  }
  parties() {
    return this.#parties;
  }
  nWaiting() {
    return this.#round.released || this.#round.broken ? 0 : this.#round.count;
  }
  broken() {
    return this.#round.broken;
  }
}

/** The manager's own types, by type id. */
export const BUILTIN_TYPES: Record<string, (...args: unknown[]) => Managed> = {
  dict: (init) => new ManagedDict(init),
  list: (init) => new ManagedList(init),
  Namespace: (init) => new ManagedNamespace(init),
  Value: (typecode, value) => new ManagedValue(String(typecode), value),
  Array: (typecode, init) => new ManagedArray(String(typecode), init),
  Queue: (maxsize) => new ManagedQueue(maxsize),
  JoinableQueue: (maxsize) => new ManagedJoinableQueue(maxsize),
  Lock: () => new ManagedLock(false),
  RLock: () => new ManagedLock(true),
  Semaphore: (value) => new ManagedSemaphore(value),
  BoundedSemaphore: (value) => new ManagedSemaphore(value, true),
  Condition: (lock) => new ManagedCondition(lock),
  Event: () => new ManagedEvent(),
  Barrier: (parties, options) => new ManagedBarrier(parties, options as { timeout?: number }),
};
