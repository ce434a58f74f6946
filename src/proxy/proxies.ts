/**
 * Proxies of a manager's objects (CPython's `BaseProxy` and its kinds): every method is a call to
 * the manager and returns a Promise. A proxy crosses to children as a handle (the manager's
 * address and key, and the object's token), to children of any start method, and inside values
 * sent to the manager, where it stays a reference to the same object (nested proxies).
 * @module
 */
import { HANDLE, type HandleState, type Origin, registerKind } from "../handles/handle.ts";
import type { SocketAddress } from "../runtime/socket.ts";
import { getStartMethod } from "../state/start_method.ts";
import { CALL, ManagerLink, markProxy, proxyToken, setProxyMaker, type Token } from "./link.ts";

interface ProxyData {
  address: SocketAddress;
  authkey: Uint8Array;
  token: Token;
}

/**
 * Options of a proxy's blocking calls, as for the shared-memory objects.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.Queue<number>();
 * await q.get({ timeout: 10 }).catch((e) => console.log(e.name)); // "Empty"
 * ```
 */
export interface ProxyWaitOptions {
  /** Wait (default) or fail at once. */
  block?: boolean;
  /** Milliseconds to wait at most. */
  timeout?: number;
}

/**
 * A proxy of one object owned by a manager; its methods return Promises.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const d = await manager.dict();
 * console.log(d.typeid, String(d)); // "dict" "<DictProxy of dict #1 at ...>"
 * ```
 */
export class BaseProxy {
  static readonly kind = "Proxy";

  /** @internal Proxies are made by a manager's factories. */
  constructor(link: ManagerLink, token: Token) {
    markProxy(this, link, token);
  }

  /** @internal Calls `method` on the object in the manager. */
  protected _call(method: string, ...args: unknown[]): Promise<unknown> {
    const { link, token } = proxyToken(this)!;
    const what = `${this.constructor.name}.${method}()`;
    return link.request(what, CALL, token.id, method, args);
  }

  /** The manager's type id of the object, e.g. `"dict"`. */
  get typeid(): string {
    return proxyToken(this)!.token.typeid;
  }

  toString(): string {
    const { link, token } = proxyToken(this)!;
    const where = typeof link.manager.address === "string"
      ? link.manager.address
      : `${link.manager.address.host}:${link.manager.address.port}`;
    return `<${this.constructor.name} of ${token.typeid} #${token.id} at ${where}>`;
  }

  /** @internal Rebuilds a proxy in a child (see `registerKind`). */
  static fromHandle(origin: Origin): object {
    const { address, authkey, token } = origin.revived as ProxyData;
    return proxyFor(ManagerLink.to({ address, authkey }), token);
  }

  [HANDLE](): HandleState {
    const { link, token } = proxyToken(this)!;
    return {
      kind: BaseProxy.kind,
      method: getStartMethod(),
      portable: true,
      data: { ...link.manager, token } satisfies ProxyData,
    };
  }
}

/**
 * A proxy of a manager's `dict` (a `Map` in the manager).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const d = await manager.dict<string, number>({ a: 1 });
 * await d.set("b", 2);
 * console.log(await d.get("b"), await d.keys()); // 2 ["a", "b"]
 * ```
 */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  /** The value of `key`, or `fallback` (default undefined) if absent. */
  get(key: K, fallback?: V): Promise<V | undefined> {
    return this._call("get", key, fallback) as Promise<V | undefined>;
  }
  /** Sets `key` to `value`. */
  set(key: K, value: V): Promise<void> {
    return this._call("set", key, value) as Promise<void>;
  }
  /** Whether `key` is present. */
  has(key: K): Promise<boolean> {
    return this._call("has", key) as Promise<boolean>;
  }
  /** Removes `key`; whether it was present. */
  delete(key: K): Promise<boolean> {
    return this._call("delete", key) as Promise<boolean>;
  }
  /** The keys, in insertion order. */
  keys(): Promise<K[]> {
    return this._call("keys") as Promise<K[]>;
  }
  /** The values, in insertion order. */
  values(): Promise<V[]> {
    return this._call("values") as Promise<V[]>;
  }
  /** The `[key, value]` pairs, in insertion order. */
  entries(): Promise<[K, V][]> {
    return this._call("entries") as Promise<[K, V][]>;
  }
  /** Sets every pair of `other` (an object, a `Map` or pairs). */
  update(other: Record<string, V> | Map<K, V> | [K, V][]): Promise<void> {
    return this._call("update", other) as Promise<void>;
  }
  /** Removes `key` and returns its value; `fallback` if absent, or a `KeyError`-like error without one. */
  pop(key: K, ...fallback: [V?]): Promise<V> {
    return this._call("pop", key, ...fallback) as Promise<V>;
  }
  /** Removes every key. */
  clear(): Promise<void> {
    return this._call("clear") as Promise<void>;
  }
  /** The number of keys. */
  size(): Promise<number> {
    return this._call("size") as Promise<number>;
  }
  /** A copy as a plain object (keys as strings). */
  toObject(): Promise<Record<string, V>> {
    return this._call("toObject") as Promise<Record<string, V>>;
  }
}

/**
 * A proxy of a manager's `list` (an array in the manager; negative indexes count from the end).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const l = await manager.list([1, 2]);
 * await l.append(3);
 * console.log(await l.get(-1), await l.length()); // 3 3
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** The item at `index`. */
  get(index: number): Promise<T> {
    return this._call("get", index) as Promise<T>;
  }
  /** Sets the item at `index`. */
  set(index: number, value: T): Promise<void> {
    return this._call("set", index, value) as Promise<void>;
  }
  /** Adds `value` at the end. */
  append(value: T): Promise<void> {
    return this._call("append", value) as Promise<void>;
  }
  /** Adds every item of `values` at the end. */
  extend(values: T[]): Promise<void> {
    return this._call("extend", values) as Promise<void>;
  }
  /** Removes and returns the item at `index` (default: the last). */
  pop(index?: number): Promise<T> {
    return this._call("pop", ...(index === undefined ? [] : [index])) as Promise<T>;
  }
  /** The number of items. */
  length(): Promise<number> {
    return this._call("length") as Promise<number>;
  }
  /** A copy of the items. */
  toArray(): Promise<T[]> {
    return this._call("toArray") as Promise<T[]>;
  }
}

/**
 * A proxy of a manager's `Namespace`: named attributes.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const ns = await manager.Namespace({ x: 1 });
 * await ns.set("y", 2);
 * console.log(await ns.toObject()); // { x: 1, y: 2 }
 * ```
 */
export class NamespaceProxy extends BaseProxy {
  /** The attribute `name` (an `Error` named `AttributeError` if it has none). */
  get(name: string): Promise<unknown> {
    return this._call("get", name);
  }
  /** Sets the attribute `name`. */
  set(name: string, value: unknown): Promise<void> {
    return this._call("set", name, value) as Promise<void>;
  }
  /** Removes the attribute `name`; whether it was there. */
  delete(name: string): Promise<boolean> {
    return this._call("delete", name) as Promise<boolean>;
  }
  /** A copy of every attribute. */
  toObject(): Promise<Record<string, unknown>> {
    return this._call("toObject") as Promise<Record<string, unknown>>;
  }
}

/**
 * A proxy of a manager's `Value`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const v = await manager.Value("i", 1);
 * await v.set((await v.get()) + 1);
 * console.log(await v.get()); // 2
 * ```
 */
export class ValueProxy<V = number> extends BaseProxy {
  /** The value. */
  get(): Promise<V> {
    return this._call("get") as Promise<V>;
  }
  /** Sets the value (converted as the typecode stores it). */
  set(value: V): Promise<void> {
    return this._call("set", value) as Promise<void>;
  }
}

/**
 * A proxy of a manager's `Array` of a typecode.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const a = await manager.Array("d", [0.5, 1.5]);
 * await a.set(0, 2);
 * console.log(await a.toArray()); // [2, 1.5]
 * ```
 */
export class ArrayProxy<V = number> extends BaseProxy {
  /** The item at `index`. */
  get(index: number): Promise<V> {
    return this._call("get", index) as Promise<V>;
  }
  /** Sets the item at `index`. */
  set(index: number, value: V): Promise<void> {
    return this._call("set", index, value) as Promise<void>;
  }
  /** The number of items. */
  length(): Promise<number> {
    return this._call("length") as Promise<number>;
  }
  /** A copy of the items. */
  toArray(): Promise<V[]> {
    return this._call("toArray") as Promise<V[]>;
  }
}

/**
 * A proxy of a manager's `Queue`: `Empty` and `Full` as for `Queue`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.Queue<string>();
 * await q.put("job");
 * console.log(await q.get(), await q.empty()); // "job" true
 * ```
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Puts `obj`, waiting while the queue is full. */
  put(obj: T, options?: ProxyWaitOptions): Promise<void> {
    return this._call("put", obj, options) as Promise<void>;
  }
  /** Takes the next item, waiting while the queue is empty. */
  get(options?: ProxyWaitOptions): Promise<T> {
    return this._call("get", options) as Promise<T>;
  }
  /** `put(obj, { block: false })`. */
  putNowait(obj: T): Promise<void> {
    return this.put(obj, { block: false });
  }
  /** `get({ block: false })`. */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }
  /** The number of items. */
  qsize(): Promise<number> {
    return this._call("qsize") as Promise<number>;
  }
  /** Whether it is empty. */
  empty(): Promise<boolean> {
    return this._call("empty") as Promise<boolean>;
  }
  /** Whether it is full. */
  full(): Promise<boolean> {
    return this._call("full") as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's `JoinableQueue`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.JoinableQueue<string>();
 * await q.put("job");
 * await q.get();
 * await q.taskDone();
 * console.log(await q.join(1000)); // true
 * ```
 */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  /** Marks one item taken as done. */
  taskDone(): Promise<void> {
    return this._call("taskDone") as Promise<void>;
  }
  /** Waits until every item put is done; false after `timeoutMs`. */
  join(timeoutMs?: number): Promise<boolean> {
    return this._call("join", timeoutMs) as Promise<boolean>;
  }
}

/** The lock family's proxy: `acquire`, `release`, `hold`. */
class Acquirable extends BaseProxy {
  /** Acquires it; false if `{ blocking: false }` or `timeout` ms could not. */
  acquire(options?: { blocking?: boolean; timeout?: number }): Promise<boolean> {
    return this._call("acquire", options) as Promise<boolean>;
  }
  /** Releases it. */
  release(): Promise<void> {
    return this._call("release") as Promise<void>;
  }
  /** Acquires it and gives what releases it: `await using _ = await lock.hold();`. */
  async hold(): Promise<AsyncDisposable> {
    await this.acquire();
    return { [Symbol.asyncDispose]: () => this.release() };
  }
}

/**
 * A proxy of a manager's `Lock` (released by anyone, as CPython's).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const lock = await manager.Lock();
 * {
 *   await using _ = await lock.hold();
 *   console.log(await lock.locked()); // true
 * }
 * ```
 */
export class LockProxy extends Acquirable {
  /** Whether it is held. */
  locked(): Promise<boolean> {
    return this._call("locked") as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's `RLock`: re-entrant for the process that holds it (every async flow of
 * one process counts as that process, as one thread does in CPython).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const rlock = await manager.RLock();
 * await rlock.acquire();
 * await rlock.acquire();
 * await rlock.release();
 * await rlock.release();
 * ```
 */
export class RLockProxy extends LockProxy {}

/**
 * A proxy of a manager's `Semaphore`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const s = await manager.Semaphore(2);
 * await s.acquire();
 * console.log(await s.getValue()); // 1
 * ```
 */
export class SemaphoreProxy extends Acquirable {
  /** The counter. */
  getValue(): Promise<number> {
    return this._call("getValue") as Promise<number>;
  }
}

/**
 * A proxy of a manager's `BoundedSemaphore` (over-release fails).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const s = await manager.BoundedSemaphore(1);
 * await s.release().catch((e) => console.log(e.message)); // "...released more times than acquired"
 * ```
 */
export class BoundedSemaphoreProxy extends SemaphoreProxy {}

/**
 * A proxy of a manager's `Condition`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const cond = await manager.Condition();
 * await cond.acquire();
 * console.log(await cond.wait(10)); // false: nobody notified
 * await cond.release();
 * ```
 */
export class ConditionProxy extends Acquirable {
  /** Releases the lock, waits for a notify (false after `timeoutMs`), holds the lock again. */
  wait(timeoutMs?: number): Promise<boolean> {
    return this._call("wait", timeoutMs) as Promise<boolean>;
  }
  /**
   * Waits until `predicate()` (evaluated here, with the lock held) is true; false if it is still
   * false after `timeoutMs`.
   */
  async waitFor(predicate: () => unknown, timeoutMs?: number): Promise<boolean> {
    const end = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      if (await predicate()) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      await this.wait(Number.isFinite(left) ? left : undefined);
    }
  }
  /** Wakes up to `n` waiters. */
  notify(n = 1): Promise<void> {
    return this._call("notify", n) as Promise<void>;
  }
  /** Wakes every waiter. */
  notifyAll(): Promise<void> {
    return this._call("notifyAll") as Promise<void>;
  }
}

/**
 * A proxy of a manager's `Event`.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const e = await manager.Event();
 * await e.set();
 * console.log(await e.wait(100)); // true
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Sets the flag, waking the waiters. */
  set(): Promise<void> {
    return this._call("set") as Promise<void>;
  }
  /** Clears the flag. */
  clear(): Promise<void> {
    return this._call("clear") as Promise<void>;
  }
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return this._call("isSet") as Promise<boolean>;
  }
  /** Waits until the flag is set; false after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<boolean> {
    return this._call("wait", timeoutMs) as Promise<boolean>;
  }
}

/**
 * A proxy of a manager's `Barrier` (`BrokenBarrierError` as for `Barrier`).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const b = await manager.Barrier(1);
 * console.log(await b.wait()); // 0
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** Waits for every party; this one's arrival index. */
  wait(timeoutMs?: number): Promise<number> {
    return this._call("wait", timeoutMs) as Promise<number>;
  }
  /** Breaks waiters out and makes it usable again. */
  reset(): Promise<void> {
    return this._call("reset") as Promise<void>;
  }
  /** Breaks it. */
  abort(): Promise<void> {
    return this._call("abort") as Promise<void>;
  }
  /** The number of parties. */
  parties(): Promise<number> {
    return this._call("parties") as Promise<number>;
  }
  /** How many wait now. */
  nWaiting(): Promise<number> {
    return this._call("nWaiting") as Promise<number>;
  }
  /** Whether it is broken. */
  broken(): Promise<boolean> {
    return this._call("broken") as Promise<boolean>;
  }
}

/**
 * The proxy of an object of a registered type: each exposed method, returning a Promise.
 * @example
 * ```ts
 * import type { Proxied } from "multiproc";
 * type Counter = { add(k: number): number };
 * declare const counter: Proxied<Counter>;
 * const n: number = await counter.add(1);
 * ```
 */
export type Proxied<T> =
  & BaseProxy
  & {
    [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends
      (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  };

/** A proxy for a registered type: the object's exposed methods, made on the fly. */
class AutoProxy extends BaseProxy {
  static make(link: ManagerLink, token: Token): object {
    const base = new AutoProxy(link, token);
    const call = (name: string) => (...args: unknown[]) => base._call(name, ...args);
    const exposed = new Set(token.exposed);
    return new Proxy(base, {
      get(target, prop, receiver) {
        if (typeof prop === "string" && exposed.has(prop)) return call(prop);
        return Reflect.get(target, prop, receiver);
      },
      has: (target, prop) => (typeof prop === "string" && exposed.has(prop)) || prop in target,
    });
  }
}

const CLASSES: Record<string, new(link: ManagerLink, token: Token) => BaseProxy> = {
  dict: DictProxy,
  list: ListProxy,
  Namespace: NamespaceProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
  Queue: QueueProxy,
  JoinableQueue: JoinableQueueProxy,
  Lock: LockProxy,
  RLock: RLockProxy,
  Semaphore: SemaphoreProxy,
  BoundedSemaphore: BoundedSemaphoreProxy,
  Condition: ConditionProxy,
  Event: EventProxy,
  Barrier: BarrierProxy,
};

/** The proxy of `token` on `link`: the typed class of a built-in type, else an auto proxy. */
export function proxyFor(link: ManagerLink, token: Token): object {
  const cls = token.builtin && Object.hasOwn(CLASSES, token.typeid)
    ? CLASSES[token.typeid]
    : undefined;
  return cls ? new cls(link, token) : AutoProxy.make(link, token);
}

setProxyMaker(proxyFor);
registerKind(BaseProxy);
