/**
 * `Queue`, `SimpleQueue` and `JoinableQueue` (CPython's `multiprocessing` queues): FIFO across
 * any number of producers and consumers, over a ring of shared memory. What `put` returns from
 * is already in shared memory: a child may exit at once without losing it.
 * @module
 */
import { checkTimeout } from "../core/deadline.ts";
import { Empty, Full } from "../core/errors.ts";
import { shownAsText } from "../core/inspect.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import { READY } from "../core/ready.ts";
import type { StartMethod } from "../core/start_method.ts";
import { HANDLE, type HandleState, Origin, registerKind } from "../handles/handle.ts";
import type { BlockRef } from "../memory/arena.ts";
import { deadlineOf, remaining, runAsync, runSync } from "../sync/futex.ts";
import { decodeItem, type Encoded, encodeItem, READ } from "./message.ts";
import { END, Ring, TIMED_OUT, USER_WORDS } from "./ring.ts";

/**
 * Options of `put` and `get`: `block` (default `true`) and `timeout` in milliseconds.
 * @example
 * ```ts
 * import { Empty, Queue } from "multiproc";
 * const q = new Queue<string>();
 * try {
 *   q.get({ timeout: 200 }); // waits 200 ms at most
 * } catch (e) {
 *   if (!(e instanceof Empty)) throw e;
 * }
 * q.put("x", { block: false });
 * ```
 */
export interface QueueOptions {
  /** Wait (default) for room or an item; false: throw `Full`/`Empty` at once. */
  block?: boolean;
  /** With `block`, wait at most this many milliseconds, then throw `Full`/`Empty`. */
  timeout?: number;
}

/** Bytes of shared memory per queue: messages larger than this stream through it. */
const CAPACITY = 1 << 20;
const UNFINISHED = USER_WORDS, SEQ_UNFINISHED = USER_WORDS + 1;

const QUEUE_OPTIONS = { block: true, timeout: true } as const satisfies OptionNames<QueueOptions>;

/** Checks the options of `Queue.<what>()` (before its first try: a typo fails every call). */
function checked(options: QueueOptions | undefined, what: string): QueueOptions {
  return checkOptions(options, QUEUE_OPTIONS, `Queue.${what}()`, "{ timeout: 100 }");
}

/**
 * The options of a queue's `put` or `get` (`what`, e.g. `"Queue.put()"`) checked: whether it
 * waits, and how long at most (ms, or undefined for no limit). A manager's queue proxy checks
 * its own the same way.
 */
export function queueWaitArgs(
  options: QueueOptions | undefined,
  what: string,
): { block: boolean; timeout: number | undefined } {
  const o = checkOptions(options, QUEUE_OPTIONS, what, "{ timeout: 100 }");
  const block = o.block ?? true;
  if (!block && o.timeout !== undefined) {
    throw new TypeError(`${what}: a timeout needs block: true (a non-blocking call never waits)`);
  }
  return { block, timeout: checkTimeout(what, o.timeout) };
}

/** When a wait of `Queue.<what>()` with `options` (checked) gives up, if ever. */
function deadline(options: QueueOptions, what: string): number | undefined {
  const { block, timeout } = queueWaitArgs(options, `Queue.${what}()`);
  if (!block) return performance.now();
  return deadlineOf(`Queue.${what}()`, timeout);
}

interface QueueData {
  ref: BlockRef;
}

/**
 * A FIFO queue shared by processes.
 * @example
 * ```ts
 * import { Queue } from "multiproc";
 * const q = new Queue<string>();
 * q.put("hello"); // in a child too, given `q` as an argument
 * console.log(q.get()); // "hello"
 * await q.putAsync("world");
 * console.log(await q.getAsync({ timeout: 1000 })); // "world"
 * ```
 */
export class Queue<T = unknown> {
  static readonly kind: string = "Queue";
  /** @internal */
  readonly _ring: Ring;
  readonly #method: StartMethod;
  #closed = false;

  constructor(maxsize?: number);
  /** @internal */
  constructor(origin: Origin<QueueData>);
  constructor(a: number | Origin<QueueData> = 0) {
    const origin = Origin.of<QueueData>(a, new.target);
    const revived = origin.revived;
    if (revived) {
      this._ring = new Ring(revived.ref);
      this.#method = this._ring.block.method;
      return;
    }
    const maxsize = a as number;
    if (!Number.isInteger(maxsize) || maxsize < 0) {
      const Kind = typeof maxsize === "number" ? RangeError : TypeError;
      throw new Kind(
        `${new.target.name}(maxsize): maxsize must be an integer >= 0, the argument itself, not `
          + `in an object (new ${new.target.name}(10); 0, the default: no limit of its own), got `
          + shown(maxsize),
      );
    }
    this.#method = origin.method;
    this._ring = new Ring(this.#method, CAPACITY, maxsize);
  }

  #check(what: string): void {
    if (this.#closed) throw new Error(`${this.constructor.name}.${what}(): the queue is closed`);
  }

  #encode(obj: T): Encoded {
    return encodeItem(0, obj, this.#method, `${this.constructor.name}.put(): the item`);
  }

  /** Puts `obj`, blocking this thread while the queue is full (see `QueueOptions`). */
  put(obj: T, given?: QueueOptions): void {
    this.#check("put");
    const options = checked(given, "put");
    const m = this.#encode(obj);
    if (this._ring.tryPut(m.bytes, m.length)) return;
    const bytes = m.bytes.slice(0, m.length); // the waiting path outlives the scratch
    const r = runSync(this._ring.words, this._ring.put(bytes, deadline(options, "put")));
    if (r === TIMED_OUT) {
      throw new Full(this.#fullText("put"));
    }
  }

  /** Like `put`, without blocking the event loop. */
  async putAsync(obj: T, given?: QueueOptions): Promise<void> {
    this.#check("putAsync");
    const options = checked(given, "putAsync");
    const m = this.#encode(obj);
    if (this._ring.tryPut(m.bytes, m.length)) return;
    const bytes = m.bytes.slice(0, m.length); // the waiting path outlives the scratch
    const r = await keepAlive(
      runAsync(this._ring.words, this._ring.put(bytes, deadline(options, "putAsync"))),
    );
    if (r === TIMED_OUT) {
      throw new Full(this.#fullText("putAsync"));
    }
  }

  /** The message of `Full`: the queue's maxsize, or (none given) its buffer's size. */
  #fullText(what: string): string {
    const name = this.constructor.name;
    const maxsize = this._ring.maxsize;
    if (maxsize > 0) return `${name}.${what}(): the queue is full (maxsize ${maxsize})`;
    return `${name}.${what}(): the queue's shared buffer is full: ${CAPACITY >> 20} MiB of items `
      + `wait to be taken (a queue without maxsize holds that much). Take items out first (start `
      + `the consumers before filling it), or use a manager's queue (await manager.Queue()), `
      + `which grows as needed.`;
  }

  #decode = decodeItem as (bytes: Uint8Array, view: DataView, n: number) => T;

  /** Takes the next item, blocking this thread while the queue is empty (see `QueueOptions`). */
  get(given?: QueueOptions): T {
    this.#check("get");
    const options = checked(given, "get");
    const n = this._ring.tryGet(READ);
    if (n >= 0) return this.#decode(READ.bytes, READ.view, n);
    const r = runSync(
      this._ring.words,
      this._ring.take(READ, this.#decode, deadline(options, "get")),
    );
    if (r === TIMED_OUT || r === END) {
      throw new Empty(`${this.constructor.name}.get(): the queue is empty`);
    }
    return r;
  }

  /** Like `get`, without blocking the event loop. */
  async getAsync(given?: QueueOptions): Promise<T> {
    this.#check("getAsync");
    const options = checked(given, "getAsync");
    const n = this._ring.tryGet(READ);
    if (n >= 0) return this.#decode(READ.bytes, READ.view, n);
    const r = await keepAlive(
      runAsync(
        this._ring.words,
        this._ring.take(READ, this.#decode, deadline(options, "getAsync")),
      ),
    );
    if (r === TIMED_OUT || r === END) {
      throw new Empty(`${this.constructor.name}.getAsync(): the queue is empty`);
    }
    return r;
  }

  /** `put(obj, { block: false })`. */
  putNowait(obj: T): void {
    this.put(obj, { block: false });
  }

  /** `get({ block: false })`. */
  getNowait(): T {
    return this.get({ block: false });
  }

  /** For `connectionWait`: an item to take. */
  async [READY](timeoutMs: number): Promise<boolean> {
    this.#check("wait");
    const op = this._ring.poll(performance.now() + timeoutMs);
    return (await keepAlive(runAsync(this._ring.words, op))) === true;
  }

  /** Approximate number of items in the queue. */
  qsize(): number {
    return this._ring.items;
  }

  /** For `console.log`: `<Queue(qsize=2, maxsize=10)>`. */
  toString(): string {
    const max = this._ring.maxsize;
    const state = this.#closed
      ? "closed"
      : `qsize=${this.qsize()}${max > 0 ? `, maxsize=${max}` : ""}`;
    return `<${this.constructor.name}(${state})>`;
  }

  /** Whether the queue is (approximately) empty. */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /** Whether the queue is (approximately) full. */
  full(): boolean {
    const max = this._ring.maxsize;
    return max > 0 && this.qsize() >= max;
  }

  /** No more use of the queue from this object: later `put`/`get` throw. */
  close(): void {
    this.#closed = true;
  }

  /** @internal Rebuilds a queue over the ring of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): Queue {
    return new this(origin as Origin<QueueData>);
  }

  [HANDLE](): HandleState {
    return {
      kind: (this.constructor as typeof Queue).kind,
      method: this.#method,
      data: { ref: this._ring.block.ref } satisfies QueueData,
    };
  }
}

/**
 * An unbounded queue with only `put`, `get`, `empty` and `close` (CPython's `SimpleQueue`).
 * @example
 * ```ts
 * import { SimpleQueue } from "multiproc";
 * const q = new SimpleQueue<number>();
 * q.put(1);
 * console.log(q.get(), q.empty()); // 1 true
 * ```
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  static override readonly kind: string = "SimpleQueue";

  constructor();
  /** @internal */
  constructor(origin: Origin<QueueData>);
  constructor(origin?: Origin<QueueData>) {
    super((origin ?? 0) as number);
  }
}

/**
 * A queue whose consumers report each item done with `taskDone()`; `join()` waits for all.
 * @example
 * ```ts
 * import { JoinableQueue } from "multiproc";
 * const q = new JoinableQueue<string>();
 * q.put("job");
 * q.get();
 * q.taskDone();
 * await q.join(); // every item put has been reported done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  static override readonly kind: string = "JoinableQueue";

  constructor(maxsize?: number);
  /** @internal */
  constructor(origin: Origin<QueueData>);
  constructor(a: number | Origin<QueueData> = 0) {
    super(a as number);
    // Each item is counted by the ring as it is published: never one a reader has not seen
    // counted, nor one whose writer died waiting for room; a torn one is taken back.
    this._ring.counter = { word: UNFINISHED, dropped: () => this.#finished() };
  }

  /** Reports one item taken with `get` as processed; throws if called more times than items put. */
  taskDone(): void {
    if (!this.#finished()) {
      throw new Error("JoinableQueue.taskDone(): called more times than there were items put");
    }
  }

  /** Counts one item finished (false if none is unfinished); wakes `join()` at the last. */
  #finished(): boolean {
    const i32 = this._ring.i32;
    for (;;) {
      const n = Atomics.load(i32, UNFINISHED);
      if (n <= 0) return false;
      if (Atomics.compareExchange(i32, UNFINISHED, n, n - 1) === n) {
        if (n === 1) {
          Atomics.add(i32, SEQ_UNFINISHED, 1);
          this._ring.words.wake(SEQ_UNFINISHED);
        }
        return true;
      }
    }
  }

  /** Resolves once every item put has been reported with `taskDone()` (or after `timeoutMs`: false). */
  async join(timeoutMs?: number): Promise<boolean> {
    const i32 = this._ring.i32;
    const end = deadlineOf("JoinableQueue.join()", timeoutMs);
    for (;;) {
      const seq = Atomics.load(i32, SEQ_UNFINISHED);
      if (Atomics.load(i32, UNFINISHED) === 0) return true;
      const left = remaining(end);
      if (left === 0) return false;
      await this._ring.words.waitAsync(SEQ_UNFINISHED, seq, left);
    }
  }
}

registerKind(Queue, SimpleQueue, JoinableQueue);
shownAsText(Queue);
