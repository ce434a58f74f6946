/**
 * Proxies of a manager's objects (CPython's `BaseProxy` and its kinds): the typed class of each of
 * the manager's own types, an auto proxy for registered ones, and how a token becomes a proxy.
 * Put in a value sent to the manager, a proxy stays a reference to the same object (nested
 * proxies).
 * @module
 */
import { registerKind } from "../handles/handle.ts";
import { BaseProxy } from "./base.ts";
import {
  ArrayProxy,
  DictProxy,
  JoinableQueueProxy,
  ListProxy,
  NamespaceProxy,
  QueueProxy,
  ValueProxy,
} from "./data.ts";
import { type ManagerLink, setProxyMaker, type Token } from "./link.ts";
import {
  BarrierProxy,
  BoundedSemaphoreProxy,
  ConditionProxy,
  EventProxy,
  LockProxy,
  RLockProxy,
  SemaphoreProxy,
} from "./sync.ts";

export { BaseProxy, type ProxyWaitOptions } from "./base.ts";
export * from "./data.ts";
export * from "./sync.ts";

/**
 * The proxy of an object of a registered type: each exposed method, returning a Promise.
 * @example
 * ```ts
 * import type { Proxied } from "multiproc";
 * type Counter = { add(k: number): number };
 * declare const counter: Proxied<Counter>;
 * const n: number = await counter.add(1);
 * ```
 */
export type Proxied<T> =
  & BaseProxy
  & {
    [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends
      (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  };

/**
 * Assigning to a proxy (`ns.x = 5`, `v.value = 1`, `d["k"] = 1`) would only change this
 * process's copy, silently: Python's attribute assignment reaches the manager, and here only a
 * method call (a Promise) can. It is refused with the call that does it.
 */
function refuseAssignment(target: BaseProxy, prop: string | symbol): never {
  const name = target.constructor.name;
  const key = typeof prop === "string" ? prop : String(prop);
  const call = target.typeid === "Value" && key === "value"
    ? "await proxy.set(value)"
    : target.typeid === "list" || target.typeid === "Array"
    ? "await proxy.set(index, value)"
    : typeof (target as { set?: unknown }).set === "function"
    ? `await proxy.set(${JSON.stringify(key)}, value)`
    : "one of its methods";
  throw new TypeError(
    `${name}: assigning '${key}' would change only this process's copy, not the manager's `
      + `object; use ${call} (a proxy's methods return Promises).`,
  );
}

/**
 * Reading what Python reads as an attribute or an item (`v.value`, `l[0]`) would give undefined
 * silently: it is refused with the call that reads it. Other names read as on any object.
 */
function refusedRead(target: BaseProxy, prop: string | symbol): string | undefined {
  if (typeof prop !== "string" || prop in target) return undefined;
  if (target.typeid === "Value" && prop === "value") return "await proxy.get()";
  if ((target.typeid === "list" || target.typeid === "Array") && /^\d+$/.test(prop)) {
    return `await proxy.get(${prop})`;
  }
  return undefined;
}

/** Refuses assignment and new properties on a proxy (see `refuseAssignment`), and some reads. */
const ASSIGNMENT_REFUSED: ProxyHandler<BaseProxy> = {
  set: (target, prop) => refuseAssignment(target, prop),
  defineProperty: (target, prop) => refuseAssignment(target, prop),
  get(target, prop, receiver) {
    const call = refusedRead(target, prop);
    if (call === undefined) return Reflect.get(target, prop, receiver);
    throw new TypeError(
      `${target.constructor.name}: reading '${String(prop)}' would give undefined: the value is `
        + `the manager's; use ${call} (a proxy's methods return Promises).`,
    );
  },
};

/** A proxy for a registered type: the object's exposed methods, made on the fly. */
class AutoProxy extends BaseProxy {
  static make(link: ManagerLink, token: Token): object {
    const base = new AutoProxy(link, token);
    const call = (name: string) => (...args: unknown[]) => base._call(name, ...args);
    const exposed = new Set(token.exposed);
    return new Proxy(base, {
      ...ASSIGNMENT_REFUSED,
      get(target, prop, receiver) {
        if (typeof prop === "string" && exposed.has(prop)) return call(prop);
        return Reflect.get(target, prop, receiver);
      },
      has: (target, prop) => (typeof prop === "string" && exposed.has(prop)) || prop in target,
    });
  }
}

const CLASSES: Record<string, new(link: ManagerLink, token: Token) => BaseProxy> = {
  dict: DictProxy,
  list: ListProxy,
  Namespace: NamespaceProxy,
  Value: ValueProxy,
  Array: ArrayProxy,
  Queue: QueueProxy,
  JoinableQueue: JoinableQueueProxy,
  Lock: LockProxy,
  RLock: RLockProxy,
  Semaphore: SemaphoreProxy,
  BoundedSemaphore: BoundedSemaphoreProxy,
  Condition: ConditionProxy,
  Event: EventProxy,
  Barrier: BarrierProxy,
};

/** The proxy of `token` on `link`: the typed class of a built-in type, else an auto proxy. */
export function proxyFor(link: ManagerLink, token: Token): object {
  const cls = token.builtin && Object.hasOwn(CLASSES, token.typeid)
    ? CLASSES[token.typeid]
    : undefined;
  return cls ? new Proxy(new cls(link, token), ASSIGNMENT_REFUSED) : AutoProxy.make(link, token);
}

setProxyMaker(proxyFor);
registerKind(BaseProxy);
