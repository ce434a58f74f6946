/**
 * multiproc: Python's `multiprocessing` and `concurrent.futures` for Deno, Bun and Node.
 *
 * @example
 * ```ts
 * import { isMain, Process, sleep } from "multiproc";
 *
 * export async function something(id: number) {
 *   console.log(`${id}--Going to Sleep`);
 *   await sleep(100);
 *   console.log(`${id}--Woke Up`);
 * }
 *
 * if (isMain(import.meta)) {
 *   const p = new Process({ target: something, args: [0] });
 *   p.start();
 *   await p.join();
 * }
 * ```
 * @module
 */
export { Connection } from "./src/channels/connection.ts";
export { Pipe } from "./src/channels/pipe.ts";
export { JoinableQueue, Queue, type QueueOptions, SimpleQueue } from "./src/channels/queue.ts";
export { ClusterExecutor } from "./src/cluster/executor.ts";
export type { ClusterOptions } from "./src/cluster/options.ts";
export { Client, Listener, type ListenerOptions } from "./src/connection/listener.ts";
export type { AuthKey, SocketAddress } from "./src/connection/listener.ts";
export { connectionWait } from "./src/connection/wait.ts";
export { Context, getContext } from "./src/context.ts";
export {
  AuthenticationError,
  BrokenBarrierError,
  BrokenProcessPool,
  CancelledError,
  Empty,
  EOFError,
  Full,
  ProcessError,
  TimeoutError,
} from "./src/core/errors.ts";
export { sleep } from "./src/core/sleep.ts";
export { Future } from "./src/futures/future.ts";
export {
  ALL_COMPLETED,
  asCompleted,
  type Completed,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  wait,
  type WaitResult,
} from "./src/futures/wait.ts";
export { BaseManager, type ManagerOptions, type RegisterOptions } from "./src/manager/manager.ts";
export { Manager, SyncManager } from "./src/manager/sync_manager.ts";
export type { Typecode, ValueOf } from "./src/memory/typecode.ts";
export {
  type ExecutorOptions,
  type MapOptions,
  ProcessPoolExecutor,
  type RunOptions,
} from "./src/pool/executor.ts";
export { AsyncResult, Pool, type PoolMapOptions, type PoolOptions } from "./src/pool/pool.ts";
export { progress } from "./src/pool/progress.ts";
export {
  activeChildren,
  cpuCount,
  currentProcess,
  exit,
  isMain,
  parentProcess,
  type ProcessInfo,
} from "./src/process/current.ts";
export { Process, type ProcessOptions } from "./src/process/process.ts";
export {
  ArrayProxy,
  BarrierProxy,
  BaseProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  type Proxied,
  type ProxyWaitOptions,
  QueueProxy,
  RLockProxy,
  SemaphoreProxy,
  ValueProxy,
} from "./src/proxy/proxies.ts";
export {
  getAllStartMethods,
  getStartMethod,
  setStartMethod,
  type StartMethod,
} from "./src/state/start_method.ts";
export { Barrier, type BarrierOptions } from "./src/sync/barrier.ts";
export { Condition } from "./src/sync/condition.ts";
export { Event } from "./src/sync/event.ts";
export { Lock } from "./src/sync/lock.ts";
export type { AcquireOptions } from "./src/sync/primitive.ts";
export { RLock } from "./src/sync/rlock.ts";
export { BoundedSemaphore, Semaphore } from "./src/sync/semaphore.ts";
export { type CommonJsModule, task } from "./src/targets/task.ts";
export { RawArray, SharedArray } from "./src/values/array.ts";
export {
  type ShareableItem,
  ShareableList,
  type ShareableListOptions,
} from "./src/values/shareable_list.ts";
export { SharedMemory, type SharedMemoryOptions } from "./src/values/shared_memory.ts";
export { RawValue, Value, type ValueOptions } from "./src/values/value.ts";
