/**
 * A `Connection` over a stream socket, as `Listener.accept()` and `Client()` return. Messages are
 * framed as in CPython (a 4-byte big-endian length, then the body) with one kind byte ahead of
 * the body: an object (portable serialization, which any runtime reads) or raw bytes. A socket's
 * bytes arrive through the event loop, so waiting is asynchronous only: `recv()` and `poll()`
 * answer from what has already arrived and say how to wait when nothing has.
 * @module
 */
import { bytesOf, checkMaxLength, Connection, refuseArguments } from "../channels/connection.ts";
import { EOFError, TimeoutError } from "../core/errors.ts";
import { Gathered } from "../core/gather.ts";
import { decodePortable, encodePortable, type Extensions } from "../core/portable.ts";
import { READY } from "../core/ready.ts";
import { HANDLE } from "../handles/handle.ts";
import { describeAddress, type SocketAddress, type Stream } from "../runtime/socket.ts";

const OBJECT = 0, BYTES = 1;
const MAX_FRAME = 0xffff_fff0;

/** Refuses shared objects: their memory does not cross a socket. */
const refuseShared: Extensions = {
  replace(v, path) {
    if (HANDLE in v) {
      const kind = (v as { constructor: { name: string } }).constructor.name;
      throw new TypeError(
        `Connection.send(): ${path} is a ${kind}, a shared object of this machine's memory, which `
          + `cannot cross a socket: send its contents (e.g. value.value) or hand it to a child `
          + `through Process args instead.`,
      );
    }
    return null;
  },
  revive(kind) {
    throw new Error(`Connection.recv(): the message holds a ${kind}, which is not revived here`);
  },
};

/** One end of a socket connection. */
export class SocketConnection<T = unknown> extends Connection<T> {
  readonly #stream: Stream;
  readonly #peer: string;
  readonly #ext: Extensions;
  /** Bytes read and not yet split into frames. */
  readonly #held = new Gathered();
  #frames: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #waiters = new Set<() => void>();

  /** @internal Use `Listener.accept()` or `Client()`. */
  constructor(stream: Stream, peer: SocketAddress | string, ext: Extensions = refuseShared) {
    super();
    this.#stream = stream;
    this.#peer = typeof peer === "string" ? peer : describeAddress(peer);
    this.#ext = ext;
    stream.keepAlive(false);
    stream.onData = (chunk) => this.#take(chunk);
    stream.onClose = () => {
      this.#ended = true;
      this.#wake();
    };
  }

  #take(chunk: Uint8Array): void {
    const buf = this.#held.add(chunk);
    if (!buf) return; // inside a frame that is not whole yet
    let at = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let got = false;
    let need = 0;
    while (buf.length - at >= 4) {
      const n = view.getUint32(at);
      if (buf.length - at - 4 < n) {
        need = 4 + n;
        break;
      }
      this.#frames.push(buf.subarray(at + 4, at + 4 + n));
      at += 4 + n;
      got = true;
    }
    this.#held.keep(buf.subarray(at), need);
    if (got) this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once a frame has arrived or the stream ended, or after `timeoutMs`. */
  #arrival(timeoutMs: number | undefined): Promise<void> {
    if (this.#frames.length || this.#ended) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        this.#waiters.delete(done);
        if (timer !== undefined) clearTimeout(timer);
        if (!this.#waiters.size) this.#stream.keepAlive(false);
        resolve();
      };
      this.#waiters.add(done);
      this.#stream.keepAlive(true);
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(done, Math.max(0, timeoutMs));
      }
    });
  }

  /** The peer, for messages: its address, or "a client". */
  get peer(): string {
    return this.#peer;
  }

  get readable(): boolean {
    return true;
  }

  get writable(): boolean {
    return true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #check(what: string): void {
    if (this.#closed) throw new Error(`Connection.${what}(): the connection is closed`);
  }

  /** Sends `frame`, whose first 5 bytes are left for its length and `kind`. */
  #send(kind: number, frame: Uint8Array, what: string): void {
    this.#check(what);
    if (this.#ended) {
      throw new EOFError(`Connection.${what}(): the peer at ${this.#peer} closed the connection`);
    }
    if (frame.length - 4 > MAX_FRAME) {
      throw new RangeError(`Connection.${what}(): ${frame.length} bytes is over the 4 GiB limit`);
    }
    new DataView(frame.buffer, frame.byteOffset).setUint32(0, frame.length - 4);
    frame[4] = kind;
    this.#stream.write(frame);
  }

  send(obj: T): void {
    this.#send(OBJECT, encodePortable(obj, this.#ext, 5), "send");
  }

  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): void {
    const body = bytesOf(buf, offset, size);
    const frame = new Uint8Array(5 + body.length);
    frame.set(body, 5);
    this.#send(BYTES, frame, "sendBytes");
  }

  /** The next frame, already arrived; else EOFError at the end, else null. */
  #next(what: string): Uint8Array | null {
    this.#check(what);
    const frame = this.#frames.shift();
    if (frame) return frame;
    if (this.#ended) {
      throw new EOFError(
        `Connection.${what}(): the peer at ${this.#peer} closed the connection and nothing is left`,
      );
    }
    return null;
  }

  #decode(frame: Uint8Array): T {
    const body = frame.subarray(1);
    return (frame[0] === BYTES ? body.slice() : decodePortable(body, this.#ext)) as T;
  }

  #cannotBlock(what: string): never {
    throw new Error(
      `Connection.${what}(): nothing has arrived yet from ${this.#peer}, and a socket connection `
        + `cannot block the thread to wait: use await connection.${what}Async().`,
    );
  }

  recv(...none: never[]): T {
    refuseArguments("recv", none);
    const frame = this.#next("recv");
    return frame ? this.#decode(frame) : this.#cannotBlock("recv");
  }

  async recvAsync(...none: never[]): Promise<T> {
    refuseArguments("recvAsync", none);
    for (;;) {
      const frame = this.#next("recvAsync");
      if (frame) return this.#decode(frame);
      await this.#arrival(undefined);
    }
  }

  recvBytes(maxLength?: number): Uint8Array {
    const frame = this.#next("recvBytes");
    return frame
      ? checkMaxLength(frame.subarray(1).slice(), maxLength)
      : this.#cannotBlock("recvBytes");
  }

  async recvBytesAsync(maxLength?: number): Promise<Uint8Array> {
    for (;;) {
      const frame = this.#next("recvBytesAsync");
      if (frame) return checkMaxLength(frame.subarray(1).slice(), maxLength);
      await this.#arrival(undefined);
    }
  }

  /** @internal Like `recvBytesAsync`, with `TimeoutError` after `timeoutMs` (the handshake's). */
  async _recvBytesWithin(timeoutMs: number, what: string): Promise<Uint8Array> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const frame = this.#next("recvBytes");
      if (frame) return frame.subarray(1).slice();
      const left = end - performance.now();
      if (left <= 0) {
        throw new TimeoutError(`${what}: no answer from ${this.#peer} in ${timeoutMs} ms`);
      }
      await this.#arrival(left);
    }
  }

  poll(timeoutMs = 0): boolean {
    this.#check("poll");
    if (this.#frames.length || this.#ended) return true;
    return timeoutMs > 0 ? this.#cannotBlock("poll") : false;
  }

  async pollAsync(timeoutMs = 0): Promise<boolean> {
    this.#check("pollAsync");
    await this.#arrival(timeoutMs);
    return this.#frames.length > 0 || this.#ended;
  }

  [READY](timeoutMs: number): Promise<boolean> {
    return this.pollAsync(timeoutMs);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
    this.#wake();
  }

  /** Closing it ends the connection: `await using conn = await Client(...)`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal A socket connection does not cross to a child. */
  [HANDLE](): never {
    throw new TypeError(
      `A socket Connection (peer ${this.#peer}) cannot be sent to a child: have the child `
        + `connect with Client() itself, or use a Pipe.`,
    );
  }
}
