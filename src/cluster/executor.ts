/**
 * `ClusterExecutor`: the executor interface over BullMQ on Redis, its tasks run by `multiproc
 * worker` processes on any number of machines, returning the same `Future`s as a local pool.
 * @module
 */
import { coalesced } from "../core/coalesce.ts";
import { BrokenProcessPool, cancelledBy, CancelledError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { shown } from "../core/options.ts";
import { Future, type TaskOwner } from "../futures/future.ts";
import { Deque } from "../pool/deque.ts";
import { checkRun, type RunOptions } from "../pool/executor.ts";
import { unrefTimer } from "../runtime/host.ts";
import { connectionFailed, connectionRemedy, jobsRefused, loadBroker, safeUrl } from "./broker.ts";
import { loadCodec, type Packed } from "./codec.ts";
import { Connected } from "./connection.ts";
import { FunctionRefs } from "./function_refs.ts";
import { type PackedJob, packJob, type Pending } from "./job.ts";
import { lazyMap } from "./map.ts";
import { type ClusterConfig, clusterConfig, type ClusterOptions } from "./options.ts";
import { ARGS_TTL_S, RESULT_TTL_S, type TaskResult } from "./protocol.ts";
import { refuseUnsendable, refuseUnsendableColumns } from "./sendable.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

const WHAT = "ClusterExecutor";
const MAP_CALL = `${WHAT}.map()`;

/** After this long with jobs in Redis and no event of them, their state is looked up. */
const QUIET_MS = 5000;

/**
 * A pool whose workers are `multiproc worker` processes on any number of machines, reached
 * through a Redis queue (BullMQ). Same interface and `Future`s as `ProcessPoolExecutor`.
 * Arguments and results cross as data (MessagePack): no shared objects.
 * @example
 * ```ts
 * import { asCompleted, ClusterExecutor, isMain, task } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * if (isMain(import.meta)) {
 *   await using cluster = new ClusterExecutor({
 *     connection: "redis://127.0.0.1:6379",
 *     queue: "squares",
 *     root: new URL(".", import.meta.url),
 *   });
 *   for await (const f of asCompleted([1, 2, 3].map((x) => cluster.submit(square, x)))) {
 *     console.log(await f.result());
 *   }
 * }
 * ```
 */
export class ClusterExecutor implements AsyncDisposable {
  readonly #o: ClusterConfig;
  readonly #client = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  #next = 0;
  readonly #pending = new Map<string, Pending>();
  readonly #buffer = new Deque<Pending>();
  #inRedis = 0;
  /** Each function's name across machines (then a task need not wait). */
  readonly #refs: FunctionRefs;
  readonly #connected: Promise<Connected>;
  /** The connection once ready; `#opening` until then. */
  #conn: Connected | undefined;
  #opening: Connected | undefined;
  /** When an event of this executor's jobs last came (for the check of quiet jobs). */
  #lastEvent = performance.now();
  #quietCheck: ReturnType<typeof setInterval> | undefined;
  #pumping = false;
  /** Pumps at the end of this turn: the tasks submitted in one go are added in one batch. */
  readonly #schedulePump = coalesced(() => void this.#pump());
  #broken: Error | null = null;
  #shutdown = false;
  #drained: (() => void)[] = [];
  /** Settles once shut down and closed. */
  #closed: Promise<void> | undefined;
  /** The connections were closed (or are closing): one still being opened closes at once. */
  #hungUp = false;

  constructor(options: ClusterOptions) {
    this.#o = clusterConfig(options, WHAT);
    this.#refs = new FunctionRefs(WHAT, this.#o.root, this.#o.module);
    this.#connected = this.#connect();
    this.#connected.catch((error) => this.#break(error));
  }

  async #connect(): Promise<Connected> {
    const [broker, codec] = await Promise.all([loadBroker(WHAT), loadCodec()]);
    this.#checkNotClosed();
    const conn = new Connected(broker, codec, this.#o.url, this.#o.queue, {
      onResult: (id, result) => this.#onResult(id, result),
      onLost: (id, reason) => this.#onLost(id, reason),
      onActive: (id) => {
        this.#lastEvent = performance.now();
        this.#pending.get(id)?.future._setRunning();
      },
      onUnreachable: (reason) =>
        this.#break(
          new BrokenProcessPool(
            `${WHAT}: Redis at ${safeUrl(this.#o.url)} was unreachable for `
              + `${this.#o.unreachableMs} ms${reason ? ` (${reason})` : ""}; every pending task `
              + `failed: ${connectionRemedy(reason)}, then make a new executor.`,
          ),
        ),
      onReconnected: () => this.#reconcile(),
      unreachableMs: this.#o.unreachableMs,
    });
    this.#opening = conn;
    await conn.ready().catch((error) => {
      this.#checkNotClosed();
      throw connectionFailed(error, this.#o.url);
    });
    this.#checkNotClosed();
    this.#conn = conn;
    // A job whose end no event told (an event stream trimmed, say) is looked up after a while.
    this.#quietCheck = setInterval(() => {
      if (this.#inRedis > 0 && performance.now() - this.#lastEvent > QUIET_MS) {
        this.#lastEvent = performance.now();
        void this.#reconcile();
      }
    }, QUIET_MS);
    unrefTimer(this.#quietCheck);
    return conn;
  }

  /**
   * Throws once the connections were closed (shut down, or broken) while they were being opened:
   * the opening stops there, and closes what it opened (else it would keep the program alive).
   */
  #checkNotClosed(): void {
    if (!this.#hungUp) return;
    void this.#opening?.close();
    throw new Error(`${WHAT}: closed before its connection to Redis was open`);
  }

  /** Closes the connections, open or being opened; one being opened closes once it is made. */
  async #hangUp(): Promise<void> {
    this.#hungUp = true;
    clearInterval(this.#quietCheck);
    await (this.#conn ?? this.#opening)?.close();
  }

  #checkOpen(what: string): void {
    if (this.#shutdown) {
      throw new Error(`${WHAT}.${what}(): cannot schedule new tasks after shutdown()`);
    }
    if (this.#broken) throw this.#broken;
  }

  /** Runs `fn(...args)` on a cluster worker; the future settles with its result or error. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    this.#checkOpen("submit");
    return this.#run(fn, args, {}, "submit");
  }

  /**
   * Runs `fn(...args)` as `submit` does, stoppable: an aborted `signal` removes the job if it
   * has not started, or kills the task's child on its worker (`CancelledError`); past `timeout`
   * ms from its start there, its child is killed and it fails with `TimeoutError`.
   */
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    args: A = [] as unknown as A,
    options: RunOptions = {},
  ): Future<Awaited<R>> {
    this.#checkOpen("run");
    return this.#run(fn, args, options, "run");
  }

  #run<R>(fn: AnyFn, args: unknown[], options: RunOptions, what: string): Future<R> {
    const call = `${WHAT}.${what}()`;
    const timeout = checkRun(call, fn, args, options) ?? this.#o.taskTimeout;
    refuseUnsendable(args, call);
    const p = this.#add(fn, args, false, timeout, call);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.#stop(p.id, cancelledBy(signal));
      else {
        const onAbort = () => this.#stop(p.id, cancelledBy(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        p.future.addDoneCallback(() => signal.removeEventListener("abort", onAbort));
      }
    }
    return p.future as Future<R>;
  }

  /** What this executor's futures ask when they are cancelled. */
  readonly #owner: TaskOwner<Pending> = {
    cancelQueued: (p) => this.#cancel(p),
    stopRunning: (p) => this.#stop(p.id, new CancelledError("the task was cancelled")),
  };

  /** Queues a task (a call, or a chunk of calls' rows) and returns its record. */
  #add(
    fn: AnyFn,
    args: unknown[],
    chunk: boolean,
    timeout: number | undefined,
    what: string,
  ): Pending {
    const future = new Future<unknown>();
    const p: Pending = {
      id: `${this.#client}-${++this.#next}`,
      future,
      ref: this.#refs.refOf(fn),
      args,
      chunk,
      timeout,
      what,
      added: false,
    };
    if (p.ref instanceof Promise) p.ref.catch(() => {});
    future._attach(this.#owner, p);
    this.#pending.set(p.id, p);
    this.#buffer.push(p);
    this.#schedulePump();
    return p;
  }

  /** Adds buffered tasks to Redis, in batches, while fewer than `maxWaiting` are there. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#broken) return;
    this.#pumping = true;
    try {
      const conn = this.#conn ?? await this.#connected;
      while (this.#buffer.size > 0 && this.#inRedis < this.#o.maxWaiting && !this.#broken) {
        const batch: Pending[] = [];
        while (this.#buffer.size > 0 && batch.length + this.#inRedis < this.#o.maxWaiting) {
          const p = this.#buffer.shift()!;
          if (this.#pending.get(p.id) === p) batch.push(p); // else cancelled meanwhile
        }
        const jobs: PackedJob["job"][] = [];
        const adding: Pending[] = [];
        /** Large arguments, each for a key of its own. */
        const sides: [string, Packed][] = [];
        for (const p of batch) {
          try {
            const ref = p.ref instanceof Promise ? await p.ref : p.ref;
            const { job, side } = packJob(conn.codec, p, ref, this.#o.queue, this.#o.maxTaskBytes);
            if (side) {
              sides.push(side);
              p.side = side[0];
            }
            jobs.push(job);
            p.added = true;
            adding.push(p);
            this.#inRedis++;
          } catch (error) {
            this.#settle(p, (f) => f._setException(error));
          }
        }
        if (jobs.length) {
          const refused = (error: unknown) => {
            throw jobsRefused(error, this.#o.url, WHAT);
          };
          if (sides.length) await conn.putSides(sides, ARGS_TTL_S).catch(refused);
          await conn.add(jobs).catch(refused);
        }
        for (const p of adding) p.confirmed = true;
      }
    } catch (error) {
      this.#break(error as Error);
    } finally {
      this.#pumping = false;
    }
  }

  #onResult(id: string, result: TaskResult): void {
    this.#lastEvent = performance.now();
    const p = this.#pending.get(id);
    const conn = this.#conn;
    if (!p || !conn || p.taking) return;
    const codec = conn.codec;
    const packed = result.ok ? result.value : result.error;
    if (typeof packed === "string") {
      this.#settle(p, (f) => {
        try {
          if (result.ok) f._setResult(codec.decode(packed));
          else f._setException(codec.decode(packed));
        } catch (error) {
          f._setException(error);
        }
      });
      return;
    }
    // A large result, in a key of its own: taken (and its key deleted) before the future settles.
    p.taking = true;
    conn.takeSide(packed).then((bytes) => {
      if (bytes === null) {
        throw new Error(
          `${WHAT}: the result of job ${id} is no longer in Redis (${packed.key}: kept `
            + `${RESULT_TTL_S} s after its task ended, unless Redis lost its data).`,
        );
      }
      const value = codec.decode(bytes);
      this.#settle(p, (f) => f._setResult(value));
    }).catch((error) => this.#settle(p, (f) => f._setException(error)));
  }

  #onLost(id: string, reason: string): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#settle(p, (f) =>
      f._setException(
        new BrokenProcessPool(
          `${WHAT}: job ${id} was lost: ${reason}. The workers that took it died while running `
            + `it, as often as their --max-stalled allows; see their logs.`,
        ),
      ));
  }

  #settle(p: Pending, how: (f: Future<unknown>) => void): void {
    if (this.#pending.get(p.id) !== p) return;
    this.#pending.delete(p.id);
    if (p.added) this.#inRedis--;
    if (p.side) this.#conn?.dropSide(p.side);
    how(p.future);
    if (this.#buffer.size > 0) this.#schedulePump();
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#pending.size === 0) { for (const resolve of this.#drained.splice(0)) resolve(); }
  }

  /** `cancel()`: a task not yet started is dropped (removed from Redis if it is there). */
  #cancel(p: Pending): boolean {
    if (p.future.running() || this.#pending.get(p.id) !== p) return false;
    this.#pending.delete(p.id);
    if (p.added) {
      this.#inRedis--;
      void this.#conn?.remove(p.id);
    }
    if (p.side) this.#conn?.dropSide(p.side);
    this.#checkDrained();
    return true;
  }

  /** Stops a task with `error`: dropped if not started, else its worker kills its child. */
  #stop(id: string, error: CancelledError): boolean {
    const p = this.#pending.get(id);
    if (!p) return false;
    if (!p.future.running()) {
      this.#cancel(p);
      p.future._setCancelled(error);
      return true;
    }
    void this.#conn?.stop(id);
    this.#settle(p, (f) => f._setCancelled(error));
    return true;
  }

  /** After Redis came back: settles tasks whose outcome came while this client was away. */
  async #reconcile(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    for (const p of [...this.#pending.values()]) {
      if (!p.confirmed) continue;
      const outcome = await conn.outcome(p.id).catch(() => null);
      if (outcome?.state === "completed") this.#onResult(p.id, outcome.result as TaskResult);
      else if (outcome?.state === "failed") this.#onLost(p.id, outcome.reason ?? "failed");
      else if (outcome?.state === "unknown") {
        // Lost with Redis's data: added again (at least once).
        p.added = p.confirmed = false;
        this.#inRedis--;
        this.#buffer.unshiftAll([p]);
      }
    }
    void this.#pump();
  }

  /**
   * `fn` over the iterables zipped; the results in input order as an async iterable. Lazy: it
   * reads the iterables only as far as the jobs in Redis stay under `maxWaiting`. A last
   * argument that is a plain object is `{ timeout, chunksize }`.
   */
  map<R>(
    fn: (...args: never[]) => R,
    ...iterablesAndOptions: unknown[]
  ): AsyncIterableIterator<Awaited<R>> {
    this.#checkOpen("map");
    if (typeof fn !== "function") {
      throw new TypeError(`${WHAT}.map(): fn must be a function, got ${shown(fn)}`);
    }
    return lazyMap<Awaited<R>>({
      what: MAP_CALL,
      iterablesAndOptions,
      ahead: this.#o.maxWaiting,
      submit: (columns: unknown[][], chunked: boolean) => {
        this.#checkOpen("map");
        refuseUnsendableColumns(columns, MAP_CALL);
        const args = chunked ? columns : columns.map((column) => column[0]);
        return this.#add(fn as AnyFn, args, chunked, this.#o.taskTimeout, MAP_CALL)
          .future as Future<unknown>;
      },
    });
  }

  /**
   * Stops accepting tasks. `wait` (default true): resolves once every task has settled, then
   * closes the connections. `cancelFutures`: cancels the tasks not yet started.
   */
  async shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): Promise<void> {
    const { wait = true, cancelFutures = false } = options;
    this.#shutdown = true;
    if (cancelFutures) { for (const p of [...this.#pending.values()]) p.future.cancel(); }
    // The connections close once every task has settled, waited for or not.
    this.#closed ??= (async () => {
      if (this.#pending.size > 0) {
        await new Promise<void>((resolve) => this.#drained.push(resolve));
      }
      await this.#hangUp();
    })();
    if (wait) await keepAlive(this.#closed);
  }

  /** `await using cluster = new ClusterExecutor(...)`: shuts down and waits. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  /** Fails every pending task with `error` and refuses new ones. */
  #break(error: Error): void {
    if (this.#broken) return;
    this.#broken = error instanceof BrokenProcessPool
      ? error
      : new BrokenProcessPool(
        error.message.startsWith(`${WHAT}:`) ? error.message : `${WHAT}: ${error.message}`,
        { cause: error },
      );
    this.#buffer.takeAll();
    for (const p of [...this.#pending.values()]) {
      this.#settle(p, (f) => f._setException(this.#broken));
    }
    void this.#hangUp();
  }
}
