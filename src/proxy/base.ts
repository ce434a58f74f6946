/**
 * `BaseProxy`: a proxy of one object a manager owns. Its methods are calls to the manager that
 * return Promises; it crosses to children as a handle (the manager's address and key, and the
 * object's token), to children of any start method.
 * @module
 */
import { shownAsText } from "../core/inspect.ts";
import { HANDLE, type HandleState, type Origin } from "../handles/handle.ts";
import type { SocketAddress } from "../runtime/socket.ts";
import { getStartMethod } from "../state/start_method.ts";
import { CALL, ManagerLink, markProxy, proxyOn, proxyToken, type Token } from "./link.ts";

interface ProxyData {
  address: SocketAddress;
  authkey: Uint8Array;
  token: Token;
}

/**
 * Options of a proxy's blocking calls, as for the shared-memory objects.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const q = await manager.Queue<number>();
 * await q.get({ timeout: 10 }).catch((e) => console.log(e.name)); // "Empty"
 * ```
 */
export interface ProxyWaitOptions {
  /** Wait (default) or fail at once. */
  block?: boolean;
  /** Milliseconds to wait at most. */
  timeout?: number;
}

/**
 * A proxy of one object owned by a manager; its methods return Promises.
 * @example
 * ```ts
 * import { Manager } from "multiproc";
 * await using manager = await Manager();
 * const d = await manager.dict();
 * console.log(d.typeid, String(d)); // "dict" "<DictProxy of dict #1 at ...>"
 * ```
 */
export class BaseProxy {
  static readonly kind = "Proxy";

  /** @internal Proxies are made by a manager's factories. */
  constructor(link: ManagerLink, token: Token) {
    markProxy(this, link, token);
  }

  /**
   * @internal Calls `method` with the arguments `check()` gives: checked here, as the local
   * objects check theirs, so that a mistyped option fails at once (a rejection naming the call)
   * instead of reaching the manager, which would wait without a limit.
   */
  protected _checkedCall(method: string, check: (what: string) => unknown[]): Promise<unknown> {
    let args: unknown[];
    try {
      args = check(`${this.constructor.name}.${method}()`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this._call(method, ...args);
  }

  /** @internal Calls `method` on the object in the manager. */
  protected _call(method: string, ...args: unknown[]): Promise<unknown> {
    const { link, token } = proxyToken(this)!;
    const what = `${this.constructor.name}.${method}()`;
    return link.request(what, CALL, token.id, method, args);
  }

  /** The manager's type id of the object, e.g. `"dict"`. */
  get typeid(): string {
    return proxyToken(this)!.token.typeid;
  }

  toString(): string {
    const { link, token } = proxyToken(this)!;
    const where = typeof link.manager.address === "string"
      ? link.manager.address
      : `${link.manager.address.host}:${link.manager.address.port}`;
    return `<${this.constructor.name} of ${token.typeid} #${token.id} at ${where}>`;
  }

  /** @internal Rebuilds a proxy in a child (see `registerKind`). */
  static fromHandle(origin: Origin): object {
    const { address, authkey, token } = origin.revived as ProxyData;
    return proxyOn(ManagerLink.to({ address, authkey }), token);
  }

  [HANDLE](): HandleState {
    const { link, token } = proxyToken(this)!;
    return {
      kind: BaseProxy.kind,
      method: getStartMethod(),
      portable: true,
      data: { ...link.manager, token } satisfies ProxyData,
    };
  }
}

shownAsText(BaseProxy);
