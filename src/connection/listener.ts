/**
 * `Listener` and `Client` (CPython's `multiprocessing.connection`): message connections between
 * programs over Unix sockets or TCP, with the `authkey` handshake of `auth.ts`.
 * @module
 */
import type { Connection } from "../channels/connection.ts";
import { EOFError } from "../core/errors.ts";
import type { Extensions } from "../core/portable.ts";
import {
  connect,
  describeAddress,
  permissionDenied,
  privateSocketPath,
  type SocketAddress,
  SocketServer,
  type Stream,
} from "../runtime/socket.ts";
import { authenticateClient, authenticateListener, type AuthKey, keyBytes } from "./auth.ts";
import { SocketConnection } from "./socket_connection.ts";

export type { SocketAddress } from "../runtime/socket.ts";
export type { AuthKey } from "./auth.ts";

/**
 * Options of `Listener` and `Client`.
 * @example
 * ```ts
 * import { Listener } from "multiproc";
 * await using listener = new Listener({ address: { host: "127.0.0.1", port: 0 }, authkey: "k" });
 * console.log(listener.address); // { host: "127.0.0.1", port: ... }
 * ```
 */
export interface ListenerOptions {
  /**
   * A Unix socket's path, or `{ host, port }` for TCP (port 0: the OS picks one; read it from
   * `listener.address`). `Listener` without one listens on a new Unix socket in a private
   * temporary directory.
   */
  address?: SocketAddress;
  /** A shared secret both sides must hold; a peer without it is refused with `AuthenticationError`. */
  authkey?: AuthKey;
}

/** @internal Checks an address given by the user. */
export function checkAddress(address: unknown, what: string): SocketAddress {
  if (typeof address === "string" && address.length > 0) return checkSocketPath(address, what);
  if (typeof address === "object" && address !== null) {
    const { host, port } = address as { host?: unknown; port?: unknown };
    if (
      typeof host === "string" && host.length > 0 && Number.isInteger(port)
      && (port as number) >= 0 && (port as number) <= 65535
    ) {
      return { host, port: port as number };
    }
  }
  throw new TypeError(
    `${what}: address must be a Unix socket path or { host, port } with a port in 0..65535, `
      + `got ${JSON.stringify(address)}`,
  );
}

/** The most bytes of a Unix socket path: Linux's `sun_path` holds 108, with its final NUL. */
const SOCKET_PATH_MAX = 107;

/**
 * `path`, if a Unix socket address holds it; else an error naming it and the limit (CPython's
 * "AF_UNIX path too long"): Node 20 cut it short silently (a socket elsewhere, a stray file),
 * Node 24 and Deno failed with a bare EINVAL.
 */
function checkSocketPath(path: string, what: string): string {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes <= SOCKET_PATH_MAX) return path;
  throw new RangeError(
    `${what}: the Unix socket path ${JSON.stringify(path)} is ${bytes} bytes, more than the `
      + `${SOCKET_PATH_MAX} a socket address holds (AF_UNIX path too long): use a shorter path, `
      + `such as one in /tmp, or { host, port }`,
  );
}

/**
 * Accepts connections from other programs (CPython's `Listener`).
 * @example
 * ```ts
 * import { Client, Listener } from "multiproc";
 * await using listener = new Listener({ address: { host: "127.0.0.1", port: 0 }, authkey: "secret" });
 * const address = listener.address;
 * const [server, client] = await Promise.all([
 *   listener.accept(),
 *   Client({ address, authkey: "secret" }),
 * ]);
 * client.send({ hello: "world" });
 * console.log(await server.recvAsync()); // { hello: "world" }
 * client.close();
 * server.close();
 * ```
 */
export class Listener {
  readonly #server: SocketServer;
  readonly #key: Uint8Array | null;
  readonly #ext: Extensions | undefined;
  readonly #cleanup: (() => void) | undefined;
  readonly #incoming: Stream[] = [];
  readonly #accepting = new Set<() => void>();
  #closed = false;
  /** Why the socket could not be bound, once known (`ready` rejected with it). */
  #failed: Error | undefined;
  /** Settles once the socket is bound: the address, with the port the OS chose. */
  readonly ready: Promise<SocketAddress>;

  constructor(options: ListenerOptions = {}, ext?: Extensions) {
    this.#key = options.authkey === undefined ? null : keyBytes(options.authkey, "new Listener()");
    let address: SocketAddress;
    if (options.address === undefined) {
      const made = privateSocketPath("listener", "new Listener()");
      address = made.path;
      this.#cleanup = made.remove;
    } else {
      address = checkAddress(options.address, "new Listener()");
    }
    this.#ext = ext;
    this.#server = new SocketServer(address);
    this.#server.keepAlive(false);
    this.#server.onConnection = (stream) => {
      if (this.#closed) return stream.close();
      this.#incoming.push(stream);
      for (const wake of [...this.#accepting]) wake();
    };
    this.ready = this.#server.ready.catch((error: Error) => {
      throw new Error(
        `new Listener(): cannot listen on ${describeAddress(address)}: ${error.message}`,
        { cause: error },
      );
    });
    this.ready.catch((error: Error) => void (this.#failed = error));
  }

  /**
   * The address it listens on, with the port the OS picked for port 0: there once the constructor
   * returns for a Unix path or an IP address (on Bun for any host). A host name such as
   * `"localhost"` is looked up first on Node and Deno (and on Node the bind waits a tick too in a
   * program run with pending deprecation warnings): `await listener.ready` gives it then.
   */
  get address(): SocketAddress {
    const bound = this.#server.address;
    if (bound) return bound;
    if (this.#failed) throw this.#failed; // not "still being bound": it never will be
    throw new Error(
      "Listener.address: the socket is still being bound (the port is chosen then): "
        + "await listener.ready, which gives the address",
    );
  }

  /**
   * The next connection, once it has passed the `authkey` handshake. A peer that fails it is
   * refused and this rejects with `AuthenticationError`.
   */
  async accept(): Promise<Connection> {
    const conn = new SocketConnection(await this.#nextStream(), "a client", this.#ext);
    await authenticateClient(conn, this.#key, "Listener.accept()");
    return conn;
  }

  /**
   * @internal Every connection from now on, each handed to `onConnection` once it has passed the
   * handshake (a peer that fails it is refused): the handshakes run side by side, so a peer that
   * sends nothing holds up only itself -- a manager's server, which `accept()`, one connection at
   * a time as CPython's, let three silent connections stall for their 20 s each. Ends when the
   * listener closes.
   */
  async _serve(onConnection: (conn: Connection) => void): Promise<void> {
    for (;;) {
      let stream: Stream;
      try {
        stream = await this.#nextStream();
      } catch {
        return; // closed, or it could not listen
      }
      const conn = new SocketConnection(stream, "a client", this.#ext);
      authenticateClient(conn, this.#key, "Listener.accept()").then(
        () => onConnection(conn),
        () => {}, // refused: the handshake closed it
      );
    }
  }

  /** The next incoming stream, once there is one; rejects with `EOFError` once closed. */
  async #nextStream(): Promise<Stream> {
    await this.ready;
    for (;;) {
      if (this.#closed) throw new EOFError("Listener.accept(): the listener is closed");
      const stream = this.#incoming.shift();
      if (stream) return stream;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#accepting.delete(wake);
          if (!this.#accepting.size) this.#server.keepAlive(false);
          resolve();
        };
        this.#accepting.add(wake);
        this.#server.keepAlive(true);
      });
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops listening; connections accepted stay open; a pending `accept()` rejects with `EOFError`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const s of this.#incoming.splice(0)) s.close();
    for (const wake of [...this.#accepting]) wake();
    this.#cleanup?.();
  }

  /** `await using listener = new Listener(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Connects to a `Listener` (CPython's `Client`), running the `authkey` handshake: a wrong or
 * missing key rejects with `AuthenticationError` before any message is read.
 * @example
 * ```ts
 * import { Client, Listener } from "multiproc";
 * await using listener = new Listener({ authkey: "k" }); // a new Unix socket
 * const accepted = listener.accept();
 * const conn = await Client({ address: await listener.ready, authkey: "k" });
 * (await accepted).send("hi");
 * console.log(await conn.recvAsync()); // "hi"
 * conn.close();
 * ```
 */
export async function Client(
  options: ListenerOptions,
  ext?: Extensions,
): Promise<Connection> {
  const address = checkAddress(options?.address, "Client()");
  const key = options.authkey === undefined ? null : keyBytes(options.authkey, "Client()");
  let stream: Stream;
  try {
    stream = await connect(address);
  } catch (error) {
    // Deno's missing permission says what to do itself; otherwise nobody may be listening.
    throw new Error(
      `Client(): cannot connect to ${describeAddress(address)}: ${(error as Error).message}`
        + (permissionDenied(error) ? "" : " (is a Listener running there?)"),
      { cause: error },
    );
  }
  const conn = new SocketConnection(stream, address, ext);
  await authenticateListener(conn, key, "Client()");
  return conn;
}
