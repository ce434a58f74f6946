/**
 * A process's link to one manager: one socket connection (made on the first call, through
 * `Client` with the manager's `authkey`), shared by every proxy of that manager in this process,
 * with calls told apart by number so that a waiting call (a lock, a queue's `get`) does not hold
 * up the others. The connection keeps the process alive only while a call is waiting for its
 * answer.
 *
 * Wire: a request is `[id, op, ...operands]`, an answer `[id, ok, value]`; the manager's objects
 * inside values cross as the portable codec's `"proxy"` extension, `{ typeid, id, exposed }`.
 * Once connected, a link asks for a fast lane (lane.ts): a call made while no other is under way
 * then goes through shared memory, the socket carrying the rest.
 * @module
 */
import type { Connection } from "../channels/connection.ts";
import { Client } from "../connection/listener.ts";
import { AuthenticationError, EOFError, errorClassNamed } from "../core/errors.ts";
import { decodePortable, encodePortableInto, type Extensions } from "../core/portable.ts";
import { HANDLE } from "../handles/handle.ts";
import { pid } from "../runtime/host.ts";
import { describeAddress, type SocketAddress } from "../runtime/socket.ts";
import { ASLEEP, CallerLane, NOT_POSTED } from "./lane.ts";

/** Operations of the wire (`LANE` opens a fast lane; `WAKE` has the manager look at it). */
export const CREATE = "create", CALL = "call", SHUTDOWN = "shutdown", PING = "ping";
export const LANE = "lane", WAKE = "wake";
/** The extension kind of a manager's object inside a value. */
export const PROXY = "proxy";

/** What names one object of a manager. */
export interface Token {
  readonly typeid: string;
  readonly id: number;
  /** The methods a proxy may call. */
  readonly exposed: readonly string[];
  /** One of the manager's own types (a typed proxy class), not a registered one. */
  readonly builtin?: boolean;
}

/** What a process needs to reach a manager. */
export interface ManagerAddress {
  readonly address: SocketAddress;
  readonly authkey: Uint8Array;
}

/** Makes the proxy of `token` on `link` (proxies.ts: the typed classes). */
export type ProxyMaker = (link: ManagerLink, token: Token) => object;

let makeProxy: ProxyMaker | undefined;
/** @internal Set once by proxies.ts. */
export function setProxyMaker(maker: ProxyMaker): void {
  makeProxy = maker;
}

/** The proxy of `token` on `link` (proxies.ts makes it; it is loaded with any proxy). */
export function proxyOn(link: ManagerLink, token: Token): object {
  if (!makeProxy) throw new Error("multiproc: the proxy classes are not loaded");
  return makeProxy(link, token);
}

/** Whether `v` is a proxy, and of which link. */
const TOKEN_OF: unique symbol = Symbol("multiproc.proxyToken") as never;
/** @internal Marks a proxy object with its link and token. */
export function markProxy(proxy: object, link: ManagerLink, token: Token): void {
  Object.defineProperty(proxy, TOKEN_OF, { value: { link, token } });
}
/** The link and token of a proxy, or undefined for anything else. */
export function proxyToken(v: object): { link: ManagerLink; token: Token } | undefined {
  return (v as { [TOKEN_OF]?: { link: ManagerLink; token: Token } })[TOKEN_OF];
}

const links = new Map<string, ManagerLink>();
/** A link per address and key: a wrong key tried once does not stand for the right one. */
const keyOf = (m: ManagerAddress) => `${describeAddress(m.address)} ${m.authkey.join(",")}`;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  what: string;
}

/** A connection to one manager, shared by its proxies in this process. */
export class ManagerLink {
  readonly manager: ManagerAddress;
  readonly #ext: Extensions;
  #conn: Promise<Connection> | null = null;
  /** The connection once made (a call then sends at once). */
  #live: Connection | null = null;
  #gone: Error | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #reading = false;
  #lane: CallerLane | null = null;

  private constructor(manager: ManagerAddress) {
    this.manager = manager;
    this.#ext = {
      replace: (v, path) => {
        const mark = proxyToken(v);
        if (mark) {
          if (mark.link !== this) {
            throw new TypeError(
              `${path} is a proxy of the manager at ${describeAddress(mark.link.manager.address)}, `
                + `which cannot be stored in another manager: store its value instead`,
            );
          }
          return [PROXY, mark.token];
        }
        if (HANDLE in v) {
          throw new TypeError(
            `${path} is a shared object of this machine's memory, which a manager cannot hold: `
              + `make it with the manager (manager.Value, manager.Lock, ...) instead`,
          );
        }
        return null;
      },
      revive: (kind, data) => {
        if (kind !== PROXY) throw new Error(`multiproc: unknown object ${kind}`);
        return proxyOn(this, data as Token);
      },
    };
  }

  /** The link of this process to the manager at `manager.address`. */
  static to(manager: ManagerAddress): ManagerLink {
    const key = keyOf(manager);
    let link = links.get(key);
    if (!link || link.#gone) links.set(key, link = new ManagerLink(manager));
    return link;
  }

  /** Forgets the link (after the manager shut down): later calls fail at once with `why`. */
  close(why: Error): void {
    this.#gone ??= why;
    if (links.get(keyOf(this.manager)) === this) links.delete(keyOf(this.manager));
    this.#conn?.then((c) => c.close(), () => {});
    this.#live = null;
    this.#lane?.close();
    this.#lane = null;
    this.#fail(why);
  }

  /** Asks the manager to map a lane of this process; calls go on through the socket meanwhile. */
  async #openLane(conn: Connection): Promise<void> {
    const lane = CallerLane.open(pid);
    if (!lane) return;
    try {
      const mapped = await this.request("opening a fast lane", LANE, lane.ref);
      // The manager maps it for this connection only: not if another took its place meanwhile.
      if (mapped === true && this.#live === conn) {
        this.#lane = lane;
        return;
      }
    } catch {
      // No lane: the socket serves.
    }
    lane.close();
  }

  #connection(what: string): Promise<Connection> {
    if (this.#gone) return Promise.reject(this.#gone);
    return this.#conn ??= Client(this.manager, this.#ext).then((conn) => {
      this.#live = conn;
      this.#openLane(conn);
      return conn;
    }).catch(
      (error: Error) => {
        this.#conn = null;
        if (error instanceof AuthenticationError) throw error;
        throw new EOFError(
          `${what}: the manager at ${describeAddress(this.manager.address)} cannot be reached: `
            + `${error.message}. Has it shut down?`,
          { cause: error },
        );
      },
    );
  }

  /** Sends `[op, ...operands]` and resolves with the answer; rejects with the manager's error. */
  request(what: string, op: string, ...operands: unknown[]): Promise<unknown> {
    const conn = this.#live;
    if (!conn) return this.#connection(what).then(() => this.request(what, op, ...operands));
    const id = this.#next++;
    const msg = [id, op, ...operands];
    try {
      const lane = this.#lane;
      // The lane only when no call is under way: calls start in the order they were made.
      if (lane && op === CALL && this.#pending.size === 0 && lane.idle) {
        this.#laneMessage = msg;
        const posted = lane.post(id, this.#writeRequest);
        if (posted !== NOT_POSTED) {
          if (posted === ASLEEP) conn.send([0, WAKE]);
          if (lane.answer(this.#readAnswer)) {
            const [, ok, value] = this.#laneAnswer!;
            this.#laneAnswer = null;
            return ok ? Promise.resolve(value) : Promise.reject(asLocalError(value));
          }
          // Parked: the answer comes through the socket (not before this returns).
          return this.#awaitAnswer(conn, id, what);
        }
      }
      conn.send(msg);
    } catch (error) {
      return Promise.reject(namedArgument(error, what, msg.length - 1));
    } finally {
      this.#laneMessage = null;
    }
    return this.#awaitAnswer(conn, id, what);
  }

  /** The lane's request and answer, as `post` and `answer` hand them over (no closure a call). */
  #laneMessage: unknown[] | null = null;
  #laneAnswer: [number, number, unknown] | null = null;
  readonly #writeRequest = (area: Uint8Array) =>
    encodePortableInto(this.#laneMessage, this.#ext, area);
  readonly #readAnswer = (bytes: Uint8Array) => {
    this.#laneAnswer = decodePortable(bytes, this.#ext) as [number, number, unknown];
  };

  /** The answer of call `id`, which comes through the socket. */
  #awaitAnswer(conn: Connection, id: number, what: string): Promise<unknown> {
    const answer = new Promise((resolve, reject) =>
      this.#pending.set(id, { resolve, reject, what })
    );
    if (!this.#reading) this.#read(conn);
    return answer;
  }

  #settle([id, ok, value]: [number, number, unknown]): void {
    const call = this.#pending.get(id);
    if (!call) return;
    this.#pending.delete(id);
    if (ok) call.resolve(value);
    else call.reject(asLocalError(value));
  }

  async #read(conn: Connection): Promise<void> {
    this.#reading = true;
    try {
      while (this.#pending.size) {
        this.#settle((await conn.recvAsync()) as [number, number, unknown]);
      }
    } catch (error) {
      this.#conn = this.#live = null;
      this.#lane?.close();
      this.#lane = null;
      this.#fail(error as Error);
    } finally {
      this.#reading = false;
    }
  }

  #fail(error: Error): void {
    const address = describeAddress(this.manager.address);
    for (const [id, call] of this.#pending) {
      this.#pending.delete(id);
      call.reject(
        new EOFError(
          `${call.what}: the connection to the manager at ${address} was lost before it answered `
            + `(the manager shut down or died): ${error.message}`,
          { cause: error },
        ),
      );
    }
  }
}

/** An error from the manager, as the class of this library or the built-in of that name. */
function asLocalError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const cls = errorClassNamed(e.name);
  if (!cls || e.constructor === cls) return e;
  const local = new cls(e.message, e.cause === undefined ? undefined : { cause: e.cause });
  local.stack = e.stack;
  return local;
}

/**
 * `error` of a message that could not be encoded, its value named as the caller knows it: the
 * encoding names a path in the message (`value[4][1]`, the call's arguments being its item
 * `argsAt`), which becomes `DictProxy.set(): argument 2`.
 */
function namedArgument(error: unknown, what: string, argsAt: number): unknown {
  if (!(error instanceof TypeError)) return error;
  const prefix = `value[${argsAt}][`;
  if (!error.message.startsWith(prefix)) return error;
  const rest = error.message.slice(prefix.length);
  const k = Number.parseInt(rest, 10);
  if (!Number.isInteger(k)) return error;
  const path = rest.slice(String(k).length + 1); // after "k]"
  return new TypeError(`${what}: argument ${k + 1}${path}`, { cause: error });
}
