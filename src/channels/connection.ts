/**
 * `Connection`: one end of a message channel, CPython's `multiprocessing.connection.Connection`.
 * Two kinds share this shape: the ends of a `Pipe` (rings of shared memory, which can block the
 * thread and cross to children) and the ends of a socket from `Listener`/`Client` (which wait
 * only asynchronously: a socket's bytes arrive through the event loop).
 * @module
 */
import { shownAsText } from "../core/inspect.ts";
import { READY } from "../core/ready.ts";

/**
 * One end of a `Pipe`, or of a socket from `Listener.accept()`/`Client()`.
 * @example
 * ```ts
 * import { Pipe } from "multiproc";
 * const [a, b] = Pipe();
 * a.send({ hello: "world" });
 * console.log(b.poll(100), b.recv()); // true { hello: "world" }
 * b.sendBytes(new Uint8Array([1, 2, 3]));
 * console.log(await a.recvAsync()); // Uint8Array [1, 2, 3]
 * a.close();
 * // b.recv() now throws EOFError
 * ```
 */
export abstract class Connection<T = unknown> {
  /** Whether this end can receive. */
  abstract get readable(): boolean;
  /** Whether this end can send. */
  abstract get writable(): boolean;
  /** Whether `close()` was called on this object. */
  abstract get closed(): boolean;
  /** Sends `obj` to the other end. */
  abstract send(obj: T): void;
  /** Sends raw bytes (`buf[offset .. offset + size]`). */
  abstract sendBytes(buf: ArrayBufferView | ArrayBuffer, offset?: number, size?: number): void;
  /**
   * Receives the next object, blocking this thread (a socket's end: only one already arrived);
   * `EOFError` once the other end is closed.
   */
  abstract recv(): T;
  /** Like `recv`, without blocking the event loop. */
  abstract recvAsync(): Promise<T>;
  /** Receives the next message as bytes; throws if it is longer than `maxLength`. */
  abstract recvBytes(maxLength?: number): Uint8Array;
  /** Like `recvBytes`, without blocking the event loop. */
  abstract recvBytesAsync(maxLength?: number): Promise<Uint8Array>;
  /** Whether there is something to receive (or the other end closed), waiting up to `timeoutMs` (default 0). */
  abstract poll(timeoutMs?: number): boolean;
  /** Like `poll`, without blocking the event loop. */
  abstract pollAsync(timeoutMs?: number): Promise<boolean>;
  /** Closes this end. */
  abstract close(): void;
  /** For `connectionWait`: something to receive, or the end of the stream. */
  abstract [READY](timeoutMs: number): Promise<boolean>;

  /** For `console.log`: `<Connection(readable, writable)>`, `<Connection(closed)>`. */
  toString(): string {
    const state = this.closed
      ? ["closed"]
      : [this.readable && "readable", this.writable && "writable"].filter(Boolean);
    return `<Connection(${state.join(", ")})>`;
  }
}

shownAsText(Connection);

/** The bytes of `buf[offset .. offset + size]`, checked, for `sendBytes`. */
export function bytesOf(
  buf: ArrayBufferView | ArrayBuffer,
  offset: number,
  size: number | undefined,
): Uint8Array {
  const bytes = buf instanceof ArrayBuffer
    ? new Uint8Array(buf)
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (offset < 0 || offset > bytes.length) {
    throw new RangeError(
      `Connection.sendBytes(): offset ${offset} out of range 0..${bytes.length}`,
    );
  }
  const n = size ?? bytes.length - offset;
  if (n < 0 || offset + n > bytes.length) {
    throw new RangeError(
      `Connection.sendBytes(): size ${n} from offset ${offset} exceeds the ${bytes.length} bytes given`,
    );
  }
  return bytes.subarray(offset, offset + n);
}

/** The error of `recvBytes(maxLength)` for a longer message. */
export function checkMaxLength(body: Uint8Array, maxLength: number | undefined): Uint8Array {
  if (maxLength !== undefined && body.length > maxLength) {
    throw new RangeError(
      `Connection.recvBytes(): the message has ${body.length} bytes, more than maxLength ${maxLength}`,
    );
  }
  return body;
}

/**
 * Refuses arguments to a receive that takes none (`recv({ timeout })` would otherwise wait
 * forever, its option unread): CPython's `recv()` takes none either.
 */
export function refuseArguments(what: string, args: unknown[]): void {
  if (args.length === 0) return;
  throw new TypeError(
    `Connection.${what}() takes no arguments, got ${args.length}: to wait at most some time, `
      + `poll first (if (conn.poll(500)) conn.${what}()), or use pollAsync.`,
  );
}
