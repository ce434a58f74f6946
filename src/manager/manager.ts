/**
 * `BaseManager` (CPython's `multiprocessing.managers.BaseManager`): a manager
 * process owns objects and hands out proxies to them, reached over a socket with an `authkey`.
 * `start()` runs the server in a child of this program; `connect()` reaches one another program
 * started (given its `address` and `authkey`).
 * @module
 */
import { makePipe } from "../channels/pipe.ts";
import { keyBytes } from "../connection/auth.ts";
import { type AuthKey, checkAddress, type SocketAddress } from "../connection/listener.ts";
import { EOFError, ProcessError } from "../core/errors.ts";
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import { BOUND_METHOD, methodFrom } from "../handles/handle.ts";
import { ENDED, Process } from "../process/process.ts";
import { CREATE, ManagerLink, PING, SHUTDOWN, type Token } from "../proxy/link.ts";
import { type Proxied, proxyFor } from "../proxy/proxies.ts";
import { managerServerUrl } from "../runtime/entry_url.ts";
import { privateSocketPath } from "../runtime/socket.ts";
import type { ContextLike } from "../state/start_method.ts";
import { type Caller, callerOf } from "../targets/callsite.ts";
import { checkModuleOption, resolveTarget } from "../targets/task.ts";
import type { Registered } from "./server.ts";

/**
 * Options of a manager.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager({ address: { host: "127.0.0.1", port: 0 }, authkey: "secret" });
 * console.log(manager.address); // { host: "127.0.0.1", port: ... }
 * ```
 */
export interface ManagerOptions {
  /**
   * Where the manager listens (`start()`) or is (`connect()`): a Unix socket path or
   * `{ host, port }` (port 0: the OS picks one). Default for `start()`: a new Unix socket in a
   * private temporary directory.
   */
  address?: SocketAddress;
  /** The shared secret; default for `start()`: 32 random bytes. Required by `connect()`. */
  authkey?: AuthKey;
  /** The start method (or context) of the manager process. */
  context?: ContextLike | StartMethod;
}

/**
 * Options of `register`.
 * @example
 * ```ts
 * import { BaseManager } from "multiproc";
 * export function makeStore() {
 *   return new Map<string, number>();
 * }
 * class StoreManager extends BaseManager {}
 * StoreManager.register("Store", makeStore, { exposed: ["get", "set"] });
 * ```
 */
export interface RegisterOptions {
  /** The methods proxies may call (default: the object's public methods). */
  exposed?: string[];
  /** The module that exports `factory` (as for a `Process` target). */
  module?: string | URL;
}

const MANAGER_OPTIONS = {
  address: true,
  authkey: true,
  context: true,
} as const satisfies OptionNames<ManagerOptions>;

const REGISTER_OPTIONS = { exposed: true, module: true } as const satisfies OptionNames<
  RegisterOptions
>;

interface Registration {
  typeid: string;
  factory?: (...args: never[]) => unknown;
  options: RegisterOptions;
  caller: Caller;
}

const REGISTRY: unique symbol = Symbol("multiproc.managerRegistry") as never;
type Registrable = { [REGISTRY]?: Registration[] } & typeof BaseManager;

let managers = 0;
/** The methods `register` added, which a later `register` of the same typeid may replace. */
const MAKERS = new WeakSet<object>();

/**
 * A manager of objects of the types registered on its class (CPython's `BaseManager`).
 * @example
 * ```ts
 * import { BaseManager } from "multiproc";
 * export function makeCounter() {
 *   let n = 0;
 *   return { add: (k: number) => (n += k) };
 * }
 * class CounterManager extends BaseManager {}
 * CounterManager.register("Counter", makeCounter);
 * await using manager = new CounterManager();
 * await manager.start();
 * const counter = await manager.create<ReturnType<typeof makeCounter>>("Counter");
 * console.log(await counter.add(2), await counter.add(3)); // 2 5
 * ```
 */
export class BaseManager {
  readonly #options: ManagerOptions;
  readonly #method: StartMethod;
  #address: SocketAddress | null = null;
  #authkey: Uint8Array;
  #process: Process | null = null;
  #cleanup: (() => void) | undefined;
  #state: "initial" | "started" | "connected" | "shutdown" = "initial";
  /** `start()`'s work, settled or not (never rejects), once it is called. */
  #starting: Promise<void> | undefined;
  /** `shutdown()` was called. */
  #stopping = false;
  #link: ManagerLink | null = null;

  constructor(given?: ManagerOptions) {
    const options = checkOptions(
      given,
      MANAGER_OPTIONS,
      `new ${new.target.name}()`,
      "{ address, authkey }",
    );
    this.#options = options;
    if (options.address !== undefined) checkAddress(options.address, `new ${new.target.name}()`);
    this.#authkey = options.authkey === undefined
      ? crypto.getRandomValues(new Uint8Array(32))
      : keyBytes(options.authkey, `new ${new.target.name}()`);
    this.#method = methodFrom(options.context, new.target);
  }

  /**
   * Registers a type: `factory(...args)` (an exported function, found as a `Process` target is)
   * makes an object in the manager, and `create(typeid, ...args)` -- or the method `typeid` this
   * adds to the class -- returns a proxy to it. A factory that returns the same object each time
   * shares that object (CPython's `register('get_queue', callable=lambda: queue)`). Without a
   * factory, the type is one a server started elsewhere has (for `connect()`).
   */
  static register(
    typeid: string,
    factory?: (...args: never[]) => unknown,
    options: RegisterOptions = {},
  ): void {
    const cls = this as Registrable;
    if (typeof typeid !== "string" || !/^[A-Za-z_$][\w$]*$/.test(typeid)) {
      throw new TypeError(
        `${cls.name}.register(): typeid must be an identifier, got ${JSON.stringify(typeid)}`,
      );
    }
    if (factory !== undefined && typeof factory !== "function") {
      throw new TypeError(`${cls.name}.register("${typeid}"): the factory must be a function`);
    }
    const where = `${cls.name}.register("${typeid}")`;
    checkOptions(options, REGISTER_OPTIONS, where, "{ exposed: [\"get\"] }");
    checkModuleOption(options.module, where);
    const existing = (cls.prototype as unknown as Record<string, unknown>)[typeid];
    if (existing !== undefined && !MAKERS.has(existing as object)) {
      // Refused before anything is registered: a refused name stays unknown to create().
      throw new TypeError(
        `${cls.name}.register(): '${typeid}' is the name of a manager method; pick another typeid`,
      );
    }
    // A subclass has its own registry, starting from its parent's (CPython copies it too).
    if (!Object.hasOwn(cls, REGISTRY)) {
      Object.defineProperty(cls, REGISTRY, { value: [...(cls[REGISTRY] ?? [])] });
    }
    const registry = cls[REGISTRY]!;
    const at = registry.findIndex((r) => r.typeid === typeid);
    const entry = { typeid, factory, options, caller: callerOf() };
    if (at >= 0) registry[at] = entry;
    else registry.push(entry);
    const maker = function(this: BaseManager, ...args: unknown[]) {
      return this.create(typeid, ...args);
    };
    MAKERS.add(maker);
    Object.defineProperty(cls.prototype, typeid, { configurable: true, value: maker });
  }

  /** The address it listens on (after `start()`) or connects to. */
  get address(): SocketAddress {
    const a = this.#address ?? this.#options.address;
    if (!a) throw new ProcessError(`${this.constructor.name}.address: start() it first`);
    return a;
  }

  /** For `console.log`: `<SyncManager state=started address=/tmp/.../manager.sock>`. */
  toString(): string {
    const a = this.#address ?? this.#options.address;
    const where = a === undefined
      ? ""
      : ` address=${typeof a === "string" ? a : `${a.host}:${a.port}`}`;
    return `<${this.constructor.name} state=${this.#state}${where}>`;
  }

  /** The shared secret its clients need, to hand to another program with `address`. */
  get authkey(): Uint8Array {
    return this.#authkey;
  }

  /** @internal Whether the manager's own types are served (`SyncManager`). */
  protected get _builtins(): boolean {
    return false;
  }

  /** Starts the manager process; resolves once it listens. */
  async start(): Promise<void> {
    const name = this.constructor.name;
    if (this.#state !== "initial") {
      throw new ProcessError(`${name}.start(): the manager has already been ${this.#state}`);
    }
    this.#state = "started";
    const starting = this.#start(name);
    this.#starting = starting.catch(() => {});
    // Shut down while it started: resolved, as a start followed by a shutdown (its proxies
    // fail with EOFError saying it has shut down), whatever the start met.
    await starting.catch((error) => {
      if (!this.#stopping) throw error;
    });
  }

  /** `start()`'s work: the manager process, and the link to it once it listens. */
  async #start(name: string): Promise<void> {
    let address = this.#options.address;
    if (address === undefined) {
      const made = privateSocketPath("manager", `${name}.start()`);
      address = made.path;
      this.#cleanup = made.remove;
    }
    const registry: Registered[] = await Promise.all(
      ((this.constructor as Registrable)[REGISTRY] ?? []).map(async (r) => ({
        typeid: r.typeid,
        exposed: r.options.exposed,
        factory: r.factory
          ? await resolveTarget(
            r.factory,
            r.options.module,
            r.caller,
            `${name}.register("${r.typeid}")`,
          )
          : null,
      })),
    );
    const [mine, theirs] = makePipe<{ address?: SocketAddress; error?: string }>(
      this.#method,
      false,
    );
    // The server's code is imported here, where a manager starts, not by every module (and so
    // every child) that imports the library: ~0.2 MB less resident memory per Deno child.
    const { serveManager } = await import("./server.ts");
    const ManagerProcess = class extends Process {};
    Object.defineProperty(ManagerProcess, BOUND_METHOD, { value: this.#method });
    const p = new ManagerProcess({
      target: serveManager as (...args: unknown[]) => unknown,
      args: [theirs, {
        address,
        authkey: this.#authkey,
        registry,
        builtins: this._builtins,
        privateDir: this.#cleanup !== undefined,
      }],
      name: `${name}-${++managers}`,
      daemon: true,
      module: managerServerUrl(),
    });
    this.#process = p;
    try {
      await p.start();
      theirs.close();
      const said: { address?: SocketAddress; error?: string } = await Promise.race([
        mine.recvAsync(),
        // Not join(): that holds the program open until the manager ends, long after this.
        p[ENDED]().then(() => ({ error: `it exited with code ${p.exitCode}` })),
      ]);
      if (!said.address) throw new Error(said.error);
      this.#address = said.address;
    } catch (error) {
      this.#state = "shutdown";
      p.kill();
      this.#cleanup?.();
      throw new ProcessError(
        `${name}.start(): the manager process did not start: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    } finally {
      mine.close();
    }
    this.#link = ManagerLink.to({ address: this.#address!, authkey: this.#authkey });
  }

  /** Connects to a manager another program started at `address`, with its `authkey`. */
  async connect(): Promise<void> {
    const name = this.constructor.name;
    if (this.#state !== "initial") {
      throw new ProcessError(`${name}.connect(): the manager has already been ${this.#state}`);
    }
    if (this.#options.address === undefined || this.#options.authkey === undefined) {
      throw new TypeError(
        `${name}.connect(): give the address and authkey of the manager to reach`,
      );
    }
    this.#address = this.#options.address;
    this.#link = ManagerLink.to({ address: this.#address, authkey: this.#authkey });
    await this.#link.request(`${name}.connect()`, PING);
    this.#state = "connected";
  }

  #linked(what: string): ManagerLink {
    if (this.#state === "shutdown") {
      throw new EOFError(`${this.constructor.name}.${what}: the manager has shut down`);
    }
    if (!this.#link) {
      throw new ProcessError(
        `${this.constructor.name}.${what}: start() or connect() the manager first`,
      );
    }
    return this.#link;
  }

  /** Makes an object of type `typeid` in the manager and returns its proxy. */
  async create<T = unknown>(typeid: string, ...args: unknown[]): Promise<Proxied<T>> {
    const link = this.#linked(`${typeid}()`);
    const token =
      (await link.request(`${this.constructor.name}.${typeid}()`, CREATE, typeid, args)) as Token;
    return proxyFor(link, token) as Proxied<T>;
  }

  /**
   * Shuts the manager process down (a manager reached by `connect()` is only let go): its
   * proxies fail with `EOFError` from then on.
   */
  async shutdown(): Promise<void> {
    const state = this.#state;
    this.#state = "shutdown";
    this.#stopping = true;
    // Called while it starts: the start goes on to its end (its process, its socket), then all
    // of it is shut down, as after a start that had resolved.
    await this.#starting;
    const link = this.#link;
    if (state === "started" && link) {
      await link.request(`${this.constructor.name}.shutdown()`, SHUTDOWN).catch(() => {});
      await this.#process?.join(2000);
      if (this.#process?.isAlive()) this.#process.kill();
    }
    link?.close(new EOFError(`the manager at ${describe(this.#address)} has shut down`));
    this.#cleanup?.();
  }

  /** `await using manager = ...` shuts it down at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#state === "shutdown" ? Promise.resolve() : this.shutdown();
  }
}

shownAsText(BaseManager);

function describe(a: SocketAddress | null): string {
  return a === null ? "?" : typeof a === "string" ? a : `${a.host}:${a.port}`;
}
