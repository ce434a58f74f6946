/**
 * The manager process's side (CPython's `managers.Server`): a `Listener` with the manager's
 * `authkey`, a table of the objects it owns, and one loop per connection that runs each call as
 * it comes (a call that waits, like a lock's `acquire`, holds up no other). A call's error goes
 * back to the caller with its name and message.
 * @module
 */
import type { Connection } from "../channels/connection.ts";
import { Listener, type SocketAddress } from "../connection/listener.ts";
import { decodePortable, encodePortableInto, type Extensions } from "../core/portable.ts";
import { type LaneRef, ManagerLane } from "../proxy/lane.ts";
import { CALL, CREATE, LANE, PING, PROXY, SHUTDOWN, type Token, WAKE } from "../proxy/link.ts";
import { removeAtExit } from "../runtime/socket.ts";
import { findTarget, type TargetRef } from "../targets/task.ts";
import { Caller, CallerLost, Managed } from "./caller.ts";
import { type LaneEntry, Lanes } from "./lanes.ts";
import { BUILTIN_TYPES } from "./types.ts";

/** A type registered with `BaseManager.register`: where the manager finds its factory. */
export interface Registered {
  typeid: string;
  factory: TargetRef | null;
  exposed?: string[];
}

/** What the manager process is started with. */
export interface ServeConfig {
  address: SocketAddress;
  authkey: Uint8Array;
  registry: Registered[];
  /** Whether the manager's own types (`dict`, `Lock`, ...) are served: a `SyncManager`. */
  builtins: boolean;
  /**
   * Whether `address` is a socket in a private directory its parent made: the manager removes it
   * when it ends, also after its parent was killed.
   */
  privateDir?: boolean;
}

/** What a value holds in place of a manager's object: stays a reference (nested proxies). */
class Ref {
  readonly token: Token;
  constructor(token: Token) {
    this.token = token;
  }
}

interface Entry {
  token: Token;
  obj: object;
}

/** The methods a proxy of `obj` may call: public ones, through its prototypes. */
function publicMethods(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === "constructor" || name.startsWith("_")) continue;
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (d && typeof d.value === "function") names.add(name);
    }
  }
  return [...names];
}

/** A method's result as it can cross: iterators (a `Map`'s `keys()`) as arrays. */
function crossable(v: unknown): unknown {
  if (
    typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map)
    && !(v instanceof Set) && !ArrayBuffer.isView(v)
    && typeof (v as Iterable<unknown>)[Symbol.iterator] === "function"
  ) {
    return Array.from(v as Iterable<unknown>);
  }
  return v;
}

class ManagerServer {
  readonly #config: ServeConfig;
  readonly #objects = new Map<number, Entry>();
  /** The token of each object, to hand out the same one for an object made before. */
  readonly #tokens = new Map<object, Token>();
  readonly #callers = new Set<Caller>();
  readonly #connections = new Set<Connection>();
  readonly #factories = new Map<string, Promise<(...args: unknown[]) => unknown>>();
  readonly #lanes = new Lanes();
  #nextId = 1;
  #nextCaller = 1;
  #listener: Listener | null = null;
  #stop: () => void = () => {};
  /** Settles when a client asked the manager to shut down. */
  readonly stopped = new Promise<void>((resolve) => (this.#stop = resolve));
  readonly #ext: Extensions = {
    replace: (v) => (v instanceof Ref ? [PROXY, v.token] : null),
    revive: (_kind, token) => new Ref(token as Token),
  };

  constructor(config: ServeConfig) {
    this.#config = config;
  }

  async start(): Promise<SocketAddress> {
    this.#listener = new Listener(
      { address: this.#config.address, authkey: this.#config.authkey },
      this.#ext,
    );
    const address = await this.#listener.ready;
    // Each connection's handshake apart: a silent peer holds up no other.
    this.#listener._serve((conn) => void this.#serve(conn));
    return address;
  }

  async #serve(conn: Connection): Promise<void> {
    const caller = new Caller(this.#nextCaller++);
    this.#callers.add(caller);
    this.#connections.add(conn);
    let lane: LaneEntry | null = null;
    try {
      for (;;) {
        const msg = (await conn.recvAsync()) as unknown[];
        // What the caller wrote on its lane came before this message.
        if (lane) this.#lanes.drain(lane);
        if (msg[1] === WAKE) continue;
        if (msg[1] === LANE && !lane) {
          lane = this.#openLane(conn, caller, msg[2] as LaneRef);
          conn.send([msg[0], 1, lane !== null]);
          continue;
        }
        this.#answer(conn, caller, msg, null);
      }
    } catch {
      // The connection ended (or sent what cannot be read): its caller is gone.
    } finally {
      if (lane) this.#lanes.remove(lane);
      this.#connections.delete(conn);
      this.#callers.delete(caller);
      caller.lose();
      for (const { obj } of this.#objects.values()) {
        if (obj instanceof Managed) obj.lost(caller);
      }
      conn.close();
    }
  }

  /** Maps the caller's fast lane if it can (proxy/lane.ts): its requests then run as they come. */
  #openLane(conn: Connection, caller: Caller, ref: LaneRef): LaneEntry | null {
    const lane = ManagerLane.attach(ref);
    if (!lane) return null;
    const entry: LaneEntry = {
      lane,
      run: (request) => {
        let msg: unknown[];
        try {
          msg = decodePortable(request, this.#ext) as unknown[];
        } catch (error) {
          this.#reply(conn, [lane.callId, 0, error], lane);
          return;
        }
        this.#answer(conn, caller, msg, lane);
      },
    };
    this.#lanes.add(entry);
    return entry;
  }

  /** Runs a request and answers it: at once when its method returns a value, not a Promise. */
  #answer(conn: Connection, caller: Caller, msg: unknown[], lane: ManagerLane | null): void {
    let result: unknown;
    try {
      result = this.#run(caller, msg);
    } catch (error) {
      return this.#failed(conn, msg, lane, error);
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
      lane?.defer();
      Promise.resolve(result).then(
        (v) => this.#done(conn, msg, lane, [msg[0], 1, crossable(v)]),
        (error) => this.#failed(conn, msg, lane, error),
      );
    } else this.#done(conn, msg, lane, [msg[0], 1, crossable(result)]);
  }

  #failed(conn: Connection, msg: unknown[], lane: ManagerLane | null, error: unknown): void {
    if (error instanceof CallerLost) return;
    const e = error instanceof Error ? error : new Error(String(error));
    this.#done(conn, msg, lane, [msg[0], 0, e]);
  }

  #done(conn: Connection, msg: unknown[], lane: ManagerLane | null, reply: unknown[]): void {
    try {
      this.#reply(conn, reply, lane);
    } catch (error) {
      // The result cannot cross (a function, a class instance...): say so instead.
      if (!conn.closed) this.#reply(conn, [msg[0], 0, error], lane);
    }
    if (msg[1] === SHUTDOWN) this.#shutdown();
  }

  /** Sends an answer on the lane it came by if it can, else through the socket. */
  #reply(conn: Connection, reply: unknown[], lane: ManagerLane | null): void {
    if (lane?.answer((area) => encodePortableInto(reply, this.#ext, area))) return;
    conn.send(reply);
  }

  #run(caller: Caller, msg: unknown[]): unknown {
    switch (msg[1]) {
      case CALL:
        return this.#call(caller, msg[2] as number, msg[3] as string, msg[4] as unknown[]);
      case CREATE:
        return this.#create(msg[2] as string, msg[3] as unknown[]);
      case PING:
        return { typeids: this.#typeids() };
      case SHUTDOWN:
        return true;
      default:
        throw new Error(`multiproc manager: unknown request ${String(msg[1])}`);
    }
  }

  #typeids(): string[] {
    const own = this.#config.builtins ? Object.keys(BUILTIN_TYPES) : [];
    return [...own, ...this.#config.registry.map((r) => r.typeid)];
  }

  /** Top-level references in a factory's arguments are given as their objects. */
  #deref(args: unknown[]): unknown[] {
    return args.map((a) => (a instanceof Ref ? this.#objects.get(a.token.id)?.obj ?? a : a));
  }

  async #create(typeid: string, args: unknown[]): Promise<Token> {
    const registered = this.#config.registry.find((r) => r.typeid === typeid);
    let obj: unknown, exposed: string[];
    let builtin = false;
    if (!registered && this.#config.builtins && Object.hasOwn(BUILTIN_TYPES, typeid)) {
      obj = BUILTIN_TYPES[typeid](...this.#deref(args));
      exposed = (obj!.constructor as unknown as { exposed: string[] }).exposed;
      builtin = true;
    } else if (registered?.factory) {
      obj = await (await this.#factory(registered))(...this.#deref(args));
      if (typeof obj !== "object" || obj === null) {
        throw new TypeError(
          `${typeid}(): the registered factory returned ${obj === null ? "null" : typeof obj}, `
            + `not an object: a manager hands out proxies of objects`,
        );
      }
      exposed = registered.exposed ?? publicMethods(obj);
    } else {
      throw new TypeError(
        `manager: no type '${typeid}' is registered here (known: ${this.#typeids().join(", ")}); `
          + `register it with register("${typeid}", factory) before start()`,
      );
    }
    // One object per call of the factory, unless it returns one it made before (a shared queue).
    const made = this.#tokens.get(obj as object);
    if (made) return made;
    const token: Token = { typeid, id: this.#nextId++, exposed, builtin };
    this.#objects.set(token.id, { token, obj: obj as object });
    this.#tokens.set(obj as object, token);
    return token;
  }

  #factory(r: Registered): Promise<(...args: unknown[]) => unknown> {
    let f = this.#factories.get(r.typeid);
    if (!f) {
      f = findTarget(r.factory!, `manager type '${r.typeid}'`) as Promise<
        (...a: unknown[]) => unknown
      >;
      this.#factories.set(r.typeid, f);
    }
    return f;
  }

  #call(caller: Caller, id: number, method: string, args: unknown[]): unknown {
    const entry = this.#objects.get(id);
    if (!entry) throw new Error(`manager: no object #${id} (it belongs to another manager?)`);
    const { token, obj } = entry;
    if (!token.exposed.includes(method)) {
      throw new TypeError(
        `${token.typeid}.${method}(): not a method the manager exposes for this object `
          + `(exposed: ${token.exposed.join(", ")})`,
      );
    }
    const fn = (obj as Record<string, (...a: unknown[]) => unknown>)[method];
    return obj instanceof Managed ? fn.call(obj, caller, ...args) : fn.apply(obj, args);
  }

  #shutdown(): void {
    this.#listener?.close();
    this.#lanes.close();
    for (const c of this.#connections) c.close();
    for (const caller of this.#callers) caller.lose();
    this.#stop();
  }
}

/**
 * The target of a manager process: serves until a client asks it to shut down. Tells `ready`
 * (the parent's end of a pipe) the address it listens on, or why it cannot.
 */
export async function serveManager(ready: Connection, config: ServeConfig): Promise<void> {
  if (config.privateDir && typeof config.address === "string") removeAtExit(config.address);
  const server = new ManagerServer(config);
  try {
    ready.send({ address: await server.start() });
  } catch (error) {
    ready.send({ error: (error as Error).message });
    return;
  } finally {
    ready.close();
  }
  await server.stopped;
}
