/**
 * Stream sockets (Unix domain and TCP) on every runtime: Node's `net`, which Deno and Bun carry
 * too, loaded on first use (a program without sockets loads none). A stream delivers bytes in
 * chunks as they come; framing is the caller's. Idle sockets do not keep the process alive
 * unless asked (`ref`).
 * @module
 */
import { runtime } from "./detect.ts";
import { builtin, envVar } from "./host.ts";
import { onProcessExit, runExitCallbacksOnSignals } from "./os.ts";

type Net = typeof import("node:net");
type NodeSocket = import("node:net").Socket;
type NodeServer = import("node:net").Server;

/**
 * A Unix socket's path, or a TCP host and port (port 0: the OS picks one).
 * @example
 * ```ts
 * import type { SocketAddress } from "multiproc";
 * const tcp: SocketAddress = { host: "127.0.0.1", port: 0 };
 * const unix: SocketAddress = "/tmp/my-app.sock";
 * ```
 */
export type SocketAddress = string | { host: string; port: number };

const net = () => builtin<Net>("node:net");

/** One connected stream. Bytes that come before a reader is set wait for it. */
export class Stream {
  readonly #socket: NodeSocket;
  #closed = false;
  #error: Error | undefined;
  #early: Uint8Array[] | null = [];
  #onData: ((chunk: Uint8Array) => void) | null = null;
  #onClose: ((error?: Error) => void) | null = null;

  /** @internal */
  constructor(socket: NodeSocket) {
    this.#socket = socket;
    socket.setNoDelay?.(true);
    // A Uint8Array, not Node's Buffer, whose `slice` shares memory instead of copying.
    socket.on("data", (c: Uint8Array) => {
      const chunk = new Uint8Array(c.buffer, c.byteOffset, c.length);
      if (this.#onData) this.#onData(chunk);
      else this.#early!.push(chunk);
    });
    socket.on("error", (e: Error) => this.#end(e));
    socket.on("close", () => this.#end());
  }

  /** Sets the reader of the chunks received: first those that came before, then each new one. */
  set onData(reader: (chunk: Uint8Array) => void) {
    this.#onData = reader;
    for (const chunk of this.#early?.splice(0) ?? []) reader(chunk);
    this.#early = null;
  }

  /** Sets what runs once when the stream ends (peer closed, error or `close()`); at once if it has. */
  set onClose(fn: (error?: Error) => void) {
    this.#onClose = fn;
    if (this.#closed) fn(this.#error);
  }

  #end(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#onClose?.(error);
  }

  /** Whether the stream has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `bytes` for sending, in order. */
  write(bytes: Uint8Array): void {
    if (!this.#closed) this.#socket.write(bytes);
  }

  /** Ends the stream (queued bytes are still sent). */
  close(): void {
    if (this.#closed) return;
    this.#socket.end();
    this.#socket.destroySoon?.();
    this.#end();
  }

  /** Whether an open stream keeps the process alive. */
  keepAlive(on: boolean): void {
    if (on) this.#socket.ref();
    else this.#socket.unref();
  }
}

/** A listening socket. */
export class SocketServer {
  readonly #server: NodeServer;
  readonly #requested: SocketAddress;
  /** Settles once bound: the address with the OS-chosen port. */
  readonly ready: Promise<SocketAddress>;
  #bound: SocketAddress | null = null;
  /** Called with each incoming stream. */
  onConnection: (stream: Stream) => void = (s) => s.close();

  constructor(address: SocketAddress) {
    this.#requested = address;
    this.#server = net().createServer((socket) => this.onConnection(new Stream(socket)));
    this.ready = new Promise<SocketAddress>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.once("listening", () => {
        this.#server.off("error", reject);
        resolve(this.#bound = this.#boundAddress());
      });
    });
    this.ready.catch(() => {});
    const handle = typeof address === "string" ? null : boundTcpHandle(address);
    if (handle) this.#server.listen(handle);
    else if (typeof address === "string") this.#server.listen(address);
    else this.#server.listen(address.port, address.host);
    // Unix sockets, IP addresses and anything on Bun bind at once; a host name after its lookup.
    if (this.#server.listening) this.#bound = this.#boundAddress();
  }

  #boundAddress(): SocketAddress {
    const a = this.#server.address();
    if (a === null || typeof a === "string") return a ?? this.#requested;
    return {
      host: typeof this.#requested === "string" ? a.address : this.#requested.host,
      port: a.port,
    };
  }

  /** The bound address, or null while binding. */
  get address(): SocketAddress | null {
    return this.#bound;
  }

  /** Whether the server keeps the process alive. */
  keepAlive(on: boolean): void {
    if (on) this.#server.ref();
    else this.#server.unref();
  }

  /** Stops listening (a Unix socket's file is removed). */
  close(): void {
    this.#server.close();
  }
}

/** What `process.binding("tcp_wrap")` gives on Node and Deno: libuv's TCP handle. */
interface TcpWrap {
  TCP: new(kind: number) => {
    bind(host: string, port: number): number;
    bind6(host: string, port: number, flags: number): number;
    close(): void;
  };
  constants: { SERVER: number };
}

/**
 * A TCP server handle already bound to an IP address, for `server.listen(handle)`, so that
 * `Listener.address` tells an OS-chosen port as soon as the constructor returns (Python's
 * `Listener(("127.0.0.1", 0)).address`). Node's and Deno's `listen(port, host)` bind only after a
 * `dns.lookup`, a tick later, even for an IP address. Null where there is no such handle (Bun,
 * which binds at once anyway), for a host name, or when the bind fails: `listen` then binds and
 * reports the error the usual way. Throws Deno's error for a missing permission.
 */
function boundTcpHandle(address: { host: string; port: number }): object | null {
  const family = net().isIP(address.host);
  if (family === 0 || runtime === "bun" || pendingDeprecations()) return null;
  try {
    const proc = globalThis.process as unknown as { binding?: (name: string) => unknown };
    const wrap = proc.binding?.("tcp_wrap") as TcpWrap | undefined;
    if (!wrap?.TCP || wrap.constants?.SERVER === undefined) return null;
    const handle = new wrap.TCP(wrap.constants.SERVER);
    const status = family === 4
      ? handle.bind(address.host, address.port)
      : handle.bind6(address.host, address.port, 0);
    if (status === 0) return handle;
    handle.close();
  } catch (error) {
    // Deno without --allow-net: said now, as a Unix path's missing permission is (listen would
    // throw it a tick later, uncaught, ending the program).
    if (permissionDenied(error)) throw error;
    // A runtime without the binding (or one that refuses it) binds through `listen`.
  }
  return null;
}

/**
 * Whether Node warns of pending deprecations (`process.binding` among them, DEP0111): a program
 * that asked for those warnings gets none from this library; its TCP listener binds a tick later.
 */
function pendingDeprecations(): boolean {
  if (runtime !== "node") return false;
  return globalThis.process.execArgv.includes("--pending-deprecation")
    || envVar("NODE_PENDING_DEPRECATION") === "1"
    || (envVar("NODE_OPTIONS") ?? "").includes("--pending-deprecation");
}

/** Whether `error` is Deno's refusal for a missing permission (its message names the flag). */
export function permissionDenied(error: unknown): boolean {
  return /^(NotCapable|PermissionDenied)$/.test((error as Error | undefined)?.name ?? "");
}

/** A stream connected to `address`; rejects with the OS error if nobody listens there. */
export function connect(address: SocketAddress): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const socket = typeof address === "string"
      ? net().connect(address)
      : net().connect(address.port, address.host);
    const fail = (e: Error) => reject(e);
    socket.once("error", fail);
    socket.once("connect", () => {
      socket.off("error", fail);
      resolve(new Stream(socket));
    });
  });
}

/** `address` for messages: `host:port` or the path. */
export function describeAddress(address: SocketAddress): string {
  return typeof address === "string" ? address : `${address.host}:${address.port}`;
}

/**
 * A new Unix socket path in a private temporary directory (mode 0700, so only this user can
 * connect), and how to remove that directory; removed anyway when this process exits.
 */
export function privateSocketPath(
  name: string,
  what: string,
): { path: string; remove: () => void } {
  const fs = builtin<typeof import("node:fs")>("node:fs");
  const tmp = tmpDir();
  let dir: string;
  try {
    dir = fs.mkdtempSync(`${tmp}/multiproc-`);
  } catch (error) {
    if (!permissionDenied(error)) throw error;
    throw new Error(
      `${what}: Deno may not make the private directory of its socket in ${tmp}: run with `
        + `--allow-write (or --allow-write=${tmp}) and --allow-net (to listen on that Unix `
        + `socket), or pass an address.`,
      { cause: error },
    );
  }
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  removeOnExit(remove);
  return { path: `${dir}/${name}.sock`, remove };
}

/**
 * The temporary directory (`os.tmpdir()`). On Deno, read without asking for the variables: Deno's
 * own reads TMPDIR, which needs `--allow-env`; where it may not be read, `/tmp`.
 */
function tmpDir(): string {
  if (runtime !== "deno") return builtin<typeof import("node:os")>("node:os").tmpdir();
  const dir = envVar("TMPDIR") || envVar("TMP") || envVar("TEMP") || "/tmp";
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

/** Removes the private directory of socket `path` (made by `privateSocketPath`) at this process's exit. */
export function removeAtExit(path: string): void {
  const fs = builtin<typeof import("node:fs")>("node:fs");
  const dir = path.slice(0, path.lastIndexOf("/"));
  removeOnExit(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/**
 * Runs `remove` when this process ends, a SIGTERM included: a `"process"` child gets one when its
 * parent dies (death_signal.ts), and removes its sockets before it ends.
 */
function removeOnExit(remove: () => void): void {
  onProcessExit(remove);
  runExitCallbacksOnSignals();
}
