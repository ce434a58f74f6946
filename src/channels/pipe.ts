/**
 * `Pipe` and `Connection` (CPython's `multiprocessing.Pipe`): two ends over rings of shared
 * memory, one per direction. Each ring counts the objects that can write into it, with the
 * owner token of each holder (up to 32); when the last one closes -- or its process ends, or it
 * dies (killed: a waiting reader finds its holder gone) -- the reader gets `EOFError` once the
 * ring is empty. Limit: a copy sent to a child that dies before it has started holds the stream
 * open.
 * @module
 */
import { EOFError } from "../core/errors.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { READY } from "../core/ready.ts";
import type { StartMethod } from "../core/start_method.ts";
import {
  HANDLE,
  type HandleState,
  methodOf,
  type Origin,
  registerKind,
} from "../handles/handle.ts";
import type { BlockRef } from "../memory/arena.ts";
import { atChildExit } from "../state/state.ts";
import { deadlineOf, runAsync, runSync } from "../sync/futex.ts";
import { myToken, tokenAlive } from "../sync/owner.ts";
import { bytesOf, checkMaxLength, Connection, refuseArguments } from "./connection.ts";
import {
  decodeItem,
  type Encoded,
  encodeItem,
  encodeRawMessage,
  messageBody,
  READ,
} from "./message.ts";
import { END, HOLDER_SLOTS, HOLDER_WORDS, Ring, TIMED_OUT, USER_WORDS } from "./ring.ts";

const CAPACITY = 1 << 20;
/**
 * Copies of one end of a ring still open, with their holders' owner tokens in half of the ring's
 * holder table each: the write end's (the stream ends when none is left, as an OS pipe's) and
 * the read end's (a send fails when none is left, as an OS pipe's write does: CPython's
 * `BrokenPipeError`).
 */
interface Ends {
  readonly side: 0 | 1;
  readonly count: number;
  readonly first: number;
  readonly slots: number;
}
const WRITERS: Ends = { side: 0, count: USER_WORDS, first: HOLDER_WORDS, slots: HOLDER_SLOTS / 2 };
const READERS: Ends = {
  side: 1,
  count: USER_WORDS + 1,
  first: HOLDER_WORDS + HOLDER_SLOTS / 2,
  slots: HOLDER_SLOTS / 2,
};
/** How often a waiting reader looks whether a holder of the write end died. */
const REAP_MS = 20;
const OBJECT = 0, BYTES = 1;

interface ConnectionData {
  read: BlockRef | null;
  write: BlockRef | null;
}

/** Connections alive in this isolate, closed when a child ends normally. */
const open = new Set<RingConnection>();
atChildExit(() => open.forEach((c) => c.close()));

/** One end of a `Pipe`: rings of shared memory, one per direction. */
export class RingConnection<T = unknown> extends Connection<T> {
  static readonly kind = "Connection";
  readonly #read: Ring | null;
  readonly #write: Ring | null;
  readonly #method: StartMethod;
  #closed = false;
  /** This copy's slot in the write ring's holder table (-1: none free, so not watched). */
  #holderSlot = -1;
  /** This copy's slot in the read ring's table of readers (-1: none free, so not watched). */
  #readerSlot = -1;
  /** When dead holders were last looked for, of the writers (0) and of the readers (1). */
  readonly #reapedAt = [0, 0];

  /** @internal Use `Pipe()`. */
  constructor(read: Ring | null, write: Ring | null, method: StartMethod) {
    super();
    this.#read = read;
    this.#write = write;
    this.#method = method;
    if (this.#write) this.#holderSlot = claimHolder(this.#write, WRITERS);
    if (this.#read) this.#readerSlot = claimHolder(this.#read, READERS);
    open.add(this);
  }

  /** Whether this end can receive. */
  get readable(): boolean {
    return this.#read !== null;
  }

  /** Whether this end can send. */
  get writable(): boolean {
    return this.#write !== null;
  }

  /** Whether `close()` was called on this object. */
  get closed(): boolean {
    return this.#closed;
  }

  #writer(what: string): Ring {
    if (this.#closed) throw new Error(`Connection.${what}(): the connection is closed`);
    if (!this.#write) {
      throw new Error(`Connection.${what}(): this end of a one-way pipe only receives`);
    }
    return this.#write;
  }

  #reader(what: string): Ring {
    if (this.#closed) throw new Error(`Connection.${what}(): the connection is closed`);
    if (!this.#read) throw new Error(`Connection.${what}(): this end of a one-way pipe only sends`);
    return this.#read;
  }

  #put(ring: Ring, m: Encoded, what: string): void {
    // Looked at before the message goes in, never after: a reader may take it and close at once.
    // One that died is seen here within REAP_MS (a message put before is lost, as an OS pipe's).
    if (this.#noneLeft(ring, READERS)) throw brokenPipe(what);
    if (ring.tryPut(m.bytes, m.length)) return;
    // The waiting path outlives the scratch the message may be in.
    const gone = () => this.#noneLeft(ring, READERS);
    const r = runSync(ring.words, ring.put(m.bytes.slice(0, m.length), undefined, gone));
    if (r === END) throw brokenPipe(what);
  }

  /**
   * Whether every copy of one end of `ring` is closed -- or held by a process or thread that
   * died (looked for at most every REAP_MS): for the write end, the end of the stream (as an OS
   * pipe's last writer dying ends it); for the read end, a send nobody can receive.
   */
  #noneLeft(ring: Ring, ends: Ends): boolean {
    if (Atomics.load(ring.i32, ends.count) <= 0) return true;
    const now = performance.now();
    if (now - this.#reapedAt[ends.side] < REAP_MS) return false;
    this.#reapedAt[ends.side] = now;
    reapDeadHolders(ring, ends);
    return Atomics.load(ring.i32, ends.count) <= 0;
  }

  /** Sends `obj` (structured clone; shared objects as handles) to the other end. */
  send(obj: T): void {
    const ring = this.#writer("send");
    this.#put(ring, encodeItem(OBJECT, obj, this.#method, "Connection.send(): the object"), "send");
  }

  /** Sends raw bytes (`buf[offset .. offset + size]`). */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    const ring = this.#writer("sendBytes");
    this.#put(
      ring,
      encodeRawMessage(BYTES, bytesOf(buf, offset, size), "Connection.sendBytes(): the message"),
      "sendBytes",
    );
  }

  /** End of stream: no copy of the other side's write end is left (`#noneLeft`). */
  #eof(ring: Ring): () => boolean {
    return () => this.#noneLeft(ring, WRITERS);
  }

  /** What a waiting receive got: the message, or `EOFError` at the end of the stream. */
  #got<R>(r: R | typeof TIMED_OUT | typeof END, what: string): R {
    if (r === END) {
      throw new EOFError(`Connection.${what}(): the other end is closed and nothing is left`);
    }
    if (r === TIMED_OUT) throw new Error("unreachable: no deadline");
    return r;
  }

  /** Decodes a message: an object sent, or the bytes of `sendBytes`. */
  #decode = decodeItem as (bytes: Uint8Array, view: DataView, n: number) => T;

  /** Receives the next object, blocking this thread; `EOFError` once the other end is closed. */
  recv(...none: never[]): T {
    refuseArguments("recv", none);
    const ring = this.#reader("recv");
    const n = ring.tryGet(READ);
    if (n >= 0) return this.#decode(READ.bytes, READ.view, n);
    return this.#got(
      runSync(ring.words, ring.take(READ, this.#decode, undefined, this.#eof(ring))),
      "recv",
    );
  }

  /** Like `recv`, without blocking the event loop. */
  async recvAsync(...none: never[]): Promise<T> {
    refuseArguments("recvAsync", none);
    const ring = this.#reader("recvAsync");
    const n = ring.tryGet(READ);
    if (n >= 0) return this.#decode(READ.bytes, READ.view, n);
    const op = ring.take(READ, this.#decode, undefined, this.#eof(ring));
    return this.#got(await keepAlive(runAsync(ring.words, op)), "recvAsync");
  }

  /** Receives the next message as bytes; throws if it is longer than `maxLength`. */
  recvBytes(maxLength?: number): Uint8Array {
    const ring = this.#reader("recvBytes");
    const op = ring.take(READ, (b, _v, n) => messageBody(b, n), undefined, this.#eof(ring));
    return checkMaxLength(this.#got(runSync(ring.words, op), "recvBytes"), maxLength);
  }

  /** Like `recvBytes`, without blocking the event loop. */
  async recvBytesAsync(maxLength?: number): Promise<Uint8Array> {
    const ring = this.#reader("recvBytesAsync");
    const op = ring.take(READ, (b, _v, n) => messageBody(b, n), undefined, this.#eof(ring));
    return checkMaxLength(
      this.#got(await keepAlive(runAsync(ring.words, op)), "recvBytesAsync"),
      maxLength,
    );
  }

  /** Whether there is something to receive (or the other end closed), waiting up to `timeoutMs` (default 0). */
  poll(timeoutMs = 0): boolean {
    const ring = this.#reader("poll");
    const deadline = deadlineOf("Connection.poll()", timeoutMs);
    return runSync(ring.words, ring.poll(deadline, this.#eof(ring))) === true;
  }

  /** Like `poll`, without blocking the event loop. */
  async pollAsync(timeoutMs = 0): Promise<boolean> {
    const ring = this.#reader("pollAsync");
    const deadline = deadlineOf("Connection.pollAsync()", timeoutMs);
    return (await keepAlive(runAsync(ring.words, ring.poll(deadline, this.#eof(ring))))) === true;
  }

  /** For `connectionWait`: something to receive, or the end of the stream. */
  [READY](timeoutMs: number): Promise<boolean> {
    return this.pollAsync(timeoutMs);
  }

  /** Closes this end: once every holder of the other direction's writer has closed, `recv` there throws `EOFError`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    if (this.#write) {
      release(this.#write, WRITERS, this.#holderSlot);
      this.#write.wakeReaders();
    }
    if (this.#read) {
      release(this.#read, READERS, this.#readerSlot);
      this.#read.wakeWriters();
    }
  }

  /** @internal Rebuilds a connection over the rings of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): RingConnection {
    const { read, write } = origin.revived as ConnectionData;
    return new RingConnection(read && new Ring(read), write && new Ring(write), origin.method);
  }

  [HANDLE](): HandleState {
    if (this.#closed) throw new Error("A closed Connection cannot be sent to a child");
    // The child's copy is one more writer (reader) until it closes (or its process ends).
    if (this.#write) Atomics.add(this.#write.i32, WRITERS.count, 1);
    if (this.#read) Atomics.add(this.#read.i32, READERS.count, 1);
    return {
      kind: RingConnection.kind,
      method: this.#method,
      data: {
        read: this.#read?.block.ref ?? null,
        write: this.#write?.block.ref ?? null,
      } satisfies ConnectionData,
    };
  }
}

/**
 * A pair of connected `Connection`s. `duplex` (default): both ends send and receive; otherwise
 * the first only receives and the second only sends.
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [receiver, sender] = Pipe(false);
 * sender.send(42);
 * console.log(receiver.recv()); // 42
 * ```
 */
export function Pipe<T = unknown>(duplex = true): [Connection<T>, Connection<T>] {
  return makePipe<T>(methodOf(Pipe), duplex);
}

/** @internal A pipe of start method `method`. */
export function makePipe<T>(method: StartMethod, duplex: boolean): [Connection<T>, Connection<T>] {
  const ab = ringOfOneEachEnd(method);
  if (!duplex) {
    return [new RingConnection<T>(ab, null, method), new RingConnection<T>(null, ab, method)];
  }
  const ba = ringOfOneEachEnd(method);
  return [new RingConnection<T>(ba, ab, method), new RingConnection<T>(ab, ba, method)];
}

/** A new ring with one copy of its write end and one of its read end. */
function ringOfOneEachEnd(method: StartMethod): Ring {
  const ring = new Ring(method, CAPACITY, 0);
  Atomics.store(ring.i32, WRITERS.count, 1);
  Atomics.store(ring.i32, READERS.count, 1);
  return ring;
}

/** Records this thread as the holder of one copy of an end of `ring`; its slot, or -1. */
function claimHolder(ring: Ring, ends: Ends): number {
  const me = myToken();
  for (let k = ends.first; k < ends.first + ends.slots; k++) {
    if (Atomics.compareExchange(ring.i32, k, 0, me) === 0) return k;
  }
  return -1;
}

/** Counts down a closed copy of an end (unless reaped meanwhile: then it was counted down). */
function release(ring: Ring, ends: Ends, slot: number): void {
  if (slot < 0 || Atomics.compareExchange(ring.i32, slot, myToken(), 0) === myToken()) {
    Atomics.sub(ring.i32, ends.count, 1);
  }
}

/** Counts down the copies of an end of `ring` whose holders died. */
function reapDeadHolders(ring: Ring, ends: Ends): void {
  for (let k = ends.first; k < ends.first + ends.slots; k++) {
    const token = Atomics.load(ring.i32, k);
    if (token === 0 || tokenAlive(token)) continue;
    if (Atomics.compareExchange(ring.i32, k, token, 0) === token) {
      Atomics.sub(ring.i32, ends.count, 1);
    }
  }
}

/** The error of a send that no reader is left to receive (CPython: `BrokenPipeError`). */
function brokenPipe(what: string): EOFError {
  return new EOFError(
    `Connection.${what}(): the other end is closed (every copy of its receiving end was closed, `
      + `or its process ended): nothing can receive this message.`,
  );
}

registerKind(RingConnection);
