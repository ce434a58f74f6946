/**
 * The manager's own types, by type id (CPython's `SyncManager` registry).
 * @module
 */
import type { Managed } from "./caller.ts";
import {
  ManagedArray,
  ManagedDict,
  ManagedJoinableQueue,
  ManagedList,
  ManagedNamespace,
  ManagedQueue,
  ManagedValue,
} from "./data.ts";
import {
  ManagedBarrier,
  ManagedCondition,
  ManagedEvent,
  ManagedLock,
  ManagedSemaphore,
} from "./primitives.ts";

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
