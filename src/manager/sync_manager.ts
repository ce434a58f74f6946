/**
 * `SyncManager` and `Manager()` (CPython's `multiprocessing.Manager()`): a manager with shared
 * data, queues and synchronization primitives, each a Promise of a typed proxy.
 * @module
 */
import type { Typecode, ValueOf } from "../memory/typecode.ts";
import type {
  ArrayProxy,
  BarrierProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from "../proxy/proxies.ts";
import { BaseManager, type ManagerOptions } from "./manager.ts";

/**
 * A manager with the types of CPython's `SyncManager`: shared `dict`, `list`, `Namespace`,
 * `Value`, `Array`, queues and the synchronization primitives, each a Promise of a proxy.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const d = await manager.dict<string, number>({ a: 1 });
 * await d.set("b", 2);
 * console.log(await d.toObject()); // { a: 1, b: 2 }
 * ```
 */
export class SyncManager extends BaseManager {
  protected override get _builtins(): boolean {
    return true;
  }
  #make<P>(typeid: string, ...args: unknown[]): Promise<P> {
    return this.create(typeid, ...args) as Promise<P>;
  }
  /** A shared dict (a `Map` in the manager), filled from an object, a `Map` or pairs. */
  dict<K = string, V = unknown>(
    init?: Record<string, V> | Map<K, V> | [K, V][],
  ): Promise<DictProxy<K, V>> {
    return this.#make("dict", init);
  }
  /** A shared list. */
  list<T = unknown>(init?: T[]): Promise<ListProxy<T>> {
    return this.#make("list", init);
  }
  /** A shared namespace of named attributes. */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return this.#make("Namespace", init);
  }
  /** A shared number of a typecode (as `Value`'s). */
  Value<T extends Typecode>(typecode: T, value?: ValueOf<T>): Promise<ValueProxy<ValueOf<T>>> {
    return this.#make("Value", typecode, value);
  }
  /** A shared array of a typecode, of a length or from values. */
  Array<T extends Typecode>(
    typecode: T,
    init: number | ValueOf<T>[],
  ): Promise<ArrayProxy<ValueOf<T>>> {
    return this.#make("Array", typecode, init);
  }
  /** A shared FIFO queue (`maxsize` 0: unbounded). */
  Queue<T = unknown>(maxsize = 0): Promise<QueueProxy<T>> {
    return this.#make("Queue", maxsize);
  }
  /** A shared queue with `taskDone`/`join`. */
  JoinableQueue<T = unknown>(maxsize = 0): Promise<JoinableQueueProxy<T>> {
    return this.#make("JoinableQueue", maxsize);
  }
  /** A lock (released by anyone). */
  Lock(): Promise<LockProxy> {
    return this.#make("Lock");
  }
  /** A re-entrant lock, owned by one process at a time. */
  RLock(): Promise<RLockProxy> {
    return this.#make("RLock");
  }
  /** A counting semaphore. */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return this.#make("Semaphore", value);
  }
  /** A semaphore whose over-release fails. */
  BoundedSemaphore(value = 1): Promise<BoundedSemaphoreProxy> {
    return this.#make("BoundedSemaphore", value);
  }
  /** A condition over `lock` (a `Lock`/`RLock` proxy of this manager; default a new `RLock`). */
  Condition(lock?: LockProxy): Promise<ConditionProxy> {
    return this.#make("Condition", ...(lock ? [lock] : []));
  }
  /** An event. */
  Event(): Promise<EventProxy> {
    return this.#make("Event");
  }
  /** A barrier for `parties` (its `timeout`: the default of `wait`). */
  Barrier(parties: number, options?: { timeout?: number }): Promise<BarrierProxy> {
    return this.#make("Barrier", parties, options);
  }
}

/**
 * Starts a `SyncManager` (CPython's `multiprocessing.Manager()`).
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const items = await manager.list([1, 2]);
 * await items.append(3);
 * console.log(await items.toArray()); // [1, 2, 3]
 * ```
 */
export async function Manager(options?: ManagerOptions): Promise<SyncManager> {
  const manager = new SyncManager(options);
  await manager.start();
  return manager;
}
