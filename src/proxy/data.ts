/**
 * Proxies of a manager's data: `dict`, `list`, `Namespace`, `Value`, `Array` and the queues.
 * @module
 */
import { queueWaitArgs } from "../channels/queue.ts";
import { checkTimeout } from "../core/deadline.ts";
import { BaseProxy, type ProxyWaitOptions } from "./base.ts";

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
    return this._checkedCall("put", (what) => [obj, queueWaitArgs(options, what)]) as Promise<
      void
    >;
  }
  /** Takes the next item, waiting while the queue is empty. */
  get(options?: ProxyWaitOptions): Promise<T> {
    return this._checkedCall("get", (what) => [queueWaitArgs(options, what)]) as Promise<T>;
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
    return this._checkedCall("join", (what) => [checkTimeout(what, timeoutMs)]) as Promise<
      boolean
    >;
  }
}
