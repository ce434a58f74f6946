/**
 * Contexts: the module's factories bound to one start method (CPython's `get_context`).
 * @module
 */
import type { Connection } from "./channels/connection.ts";
import { makePipe } from "./channels/pipe.ts";
import { JoinableQueue, Queue, SimpleQueue } from "./channels/queue.ts";
import { BOUND_METHOD } from "./handles/handle.ts";
import { ProcessPoolExecutor } from "./pool/executor.ts";
import { Pool } from "./pool/pool.ts";
import { Process } from "./process/process.ts";
import { fillSpares } from "./process/spares.ts";
import { checkStartMethod, getStartMethod, type StartMethod } from "./state/start_method.ts";
import { state } from "./state/state.ts";
import { Barrier } from "./sync/barrier.ts";
import { Condition } from "./sync/condition.ts";
import { Event } from "./sync/event.ts";
import { Lock } from "./sync/lock.ts";
import { RLock } from "./sync/rlock.ts";
import { BoundedSemaphore, Semaphore } from "./sync/semaphore.ts";
import { RawArray, SharedArray } from "./values/array.ts";
import { ShareableList } from "./values/shareable_list.ts";
import { SharedMemory } from "./values/shared_memory.ts";
import { RawValue, Value } from "./values/value.ts";

/**
 * `base` as a class of context `method`: a subclass that carries the method, so its constructor
 * (through `Origin.of` / `methodOf`) makes objects of that method. Same name, same signatures.
 */
function bind<C extends abstract new(...args: never[]) => unknown>(
  base: C,
  method: StartMethod,
): C {
  const Base = base as unknown as new(...args: unknown[]) => object;
  const bound = { [base.name]: class extends Base {} }[base.name];
  Object.defineProperty(bound, BOUND_METHOD, { value: method });
  return bound as unknown as C;
}

/**
 * Factories bound to one start method.
 * @example
 * ```ts
 * import { getContext } from "multiproc";
 * const ctx = getContext("thread");
 * const counter = new ctx.Value("i", 0); // shared with the context's children
 * console.log(ctx.getStartMethod()); // "thread"
 * ```
 */
export class Context {
  /** The start method of this context's children. */
  readonly method: StartMethod;
  /** `Process` of this context. */
  readonly Process: typeof Process;
  /** `Value` of this context. */
  readonly Value: typeof Value;
  /** `RawValue` of this context. */
  readonly RawValue: typeof RawValue;
  /** `SharedArray` of this context. */
  readonly SharedArray: typeof SharedArray;
  /** `RawArray` of this context. */
  readonly RawArray: typeof RawArray;
  /** `SharedMemory` of this context. */
  readonly SharedMemory: typeof SharedMemory;
  /** `ShareableList` of this context. */
  readonly ShareableList: typeof ShareableList;
  /** `Lock` of this context. */
  readonly Lock: typeof Lock;
  /** `RLock` of this context. */
  readonly RLock: typeof RLock;
  /** `Semaphore` of this context. */
  readonly Semaphore: typeof Semaphore;
  /** `BoundedSemaphore` of this context. */
  readonly BoundedSemaphore: typeof BoundedSemaphore;
  /** `Event` of this context. */
  readonly Event: typeof Event;
  /** `Condition` of this context. */
  readonly Condition: typeof Condition;
  /** `Barrier` of this context. */
  readonly Barrier: typeof Barrier;
  /** `Queue` of this context. */
  readonly Queue: typeof Queue;
  /** `SimpleQueue` of this context. */
  readonly SimpleQueue: typeof SimpleQueue;
  /** `JoinableQueue` of this context. */
  readonly JoinableQueue: typeof JoinableQueue;
  /** `Pipe` of this context. */
  readonly Pipe: <T = unknown>(duplex?: boolean) => [Connection<T>, Connection<T>];
  /** `Pool` of this context. */
  readonly Pool: typeof Pool;
  /** `ProcessPoolExecutor` of this context. */
  readonly ProcessPoolExecutor: typeof ProcessPoolExecutor;

  constructor(method: StartMethod) {
    this.method = method;
    // The warm start's spares boot as soon as the main program asks for its context (a child's
    // own spares boot at its first start).
    if (method === "forkserver" && state().parent === null) fillSpares();
    this.Process = bind(Process, method);
    this.Value = bind(Value, method);
    this.RawValue = bind(RawValue, method);
    this.SharedArray = bind(SharedArray, method);
    this.RawArray = bind(RawArray, method);
    this.SharedMemory = bind(SharedMemory, method);
    this.ShareableList = bind(ShareableList, method);
    this.Lock = bind(Lock, method);
    this.RLock = bind(RLock, method);
    this.Semaphore = bind(Semaphore, method);
    this.BoundedSemaphore = bind(BoundedSemaphore, method);
    this.Event = bind(Event, method);
    this.Condition = bind(Condition, method);
    this.Barrier = bind(Barrier, method);
    this.Queue = bind(Queue, method);
    this.SimpleQueue = bind(SimpleQueue, method);
    this.JoinableQueue = bind(JoinableQueue, method);
    this.Pipe = <T = unknown>(duplex = true) => makePipe<T>(method, duplex);
    this.Pool = bind(Pool, method);
    this.ProcessPoolExecutor = bind(ProcessPoolExecutor, method);
  }

  /** This context's start method. */
  getStartMethod(): StartMethod {
    return this.method;
  }
}

const contexts = new Map<StartMethod, Context>();

/**
 * The context for `method` (default: the current default start method).
 * @example
 * ```ts
 * import { getContext } from "multiproc";
 * const { Process, Value } = getContext("process");
 * ```
 */
export function getContext(method?: StartMethod): Context {
  const m = method === undefined ? getStartMethod() : checkStartMethod(method);
  let ctx = contexts.get(m);
  if (!ctx) contexts.set(m, ctx = new Context(m));
  return ctx;
}
