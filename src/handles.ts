/**
 * Shared objects (values, arrays, locks, queues, ...) cross to a child as handles to the same
 * memory, also nested in arrays, plain objects, Maps and Sets; everything else crosses by
 * structured clone. A shareable object implements `[HANDLE]`; its kind registers a reviver.
 * @module
 */
import type { StartMethod } from "./runtime/popen.ts";

/** Implemented by objects that cross to children as handles. */
export const HANDLE: unique symbol = Symbol.for("multiproc.handle") as never;

/** What a shareable object says about itself when it crosses. */
export interface HandleState {
  /** The registered kind, e.g. `"Value"`. */
  kind: string;
  /** The start method of the context that made it. */
  method: StartMethod;
  /** Whatever the reviver needs, structured-cloneable. */
  data: unknown;
}

/** An object that crosses to children as a handle. */
export interface Shareable {
  [HANDLE](): HandleState;
}

const TAG = "__multiproc_handle__";
const revivers = new Map<string, (data: unknown) => unknown>();

/** Registers how a child turns a handle of `kind` back into a live object. */
export function registerHandleKind(kind: string, revive: (data: unknown) => unknown): void {
  revivers.set(kind, revive);
}

function isShareable(v: unknown): v is Shareable {
  return typeof v === "object" && v !== null && typeof (v as Shareable)[HANDLE] === "function";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Replaces shareable objects with handles for a child started with `method`, and checks that the
 * rest can be cloned. `where(i)` describes position `i` for error messages.
 */
export function encodeArgs(
  args: readonly unknown[],
  method: StartMethod,
  where: (i: number) => string,
): unknown[] {
  return args.map((arg, i) => {
    if (
      arg === null
      || (typeof arg !== "object" && typeof arg !== "function" && typeof arg !== "symbol")
    ) {
      return arg; // a primitive always crosses as it is
    }
    const encoded = encodeValue(arg, method, () => where(i));
    try {
      structuredClone(encoded);
    } catch (error) {
      throw new TypeError(
        `${where(i)} cannot be sent to a child: ${(error as Error).message}. `
          + `Pass data that structured clone accepts (no functions, class instances lose their `
          + `methods), or a shared object such as Value, SharedArray, Queue or Lock.`,
        { cause: error },
      );
    }
    return encoded;
  });
}

function encodeValue(v: unknown, method: StartMethod, where: () => string): unknown {
  if (isShareable(v)) {
    const state = v[HANDLE]();
    if (state.method !== method) {
      throw new TypeError(
        `${where()} is a ${state.kind} made for the "${state.method}" start method and cannot go `
          + `to a child started with "${method}": make it with getContext("${method}").${state.kind}`
          + ` (or start the child in the "${state.method}" context).`,
      );
    }
    return { [TAG]: state.kind, data: encodeValue(state.data, method, where) };
  }
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, method, where));
  if (v instanceof Map) {
    return new Map([...v].map(([k, x]) => [k, encodeValue(x, method, where)]));
  }
  if (v instanceof Set) return new Set([...v].map((x) => encodeValue(x, method, where)));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = encodeValue(v[k], method, where);
    return out;
  }
  return v;
}

/** Turns handles back into live shared objects, in a child. */
export function decodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, decodeValue(x)]));
  if (v instanceof Set) return new Set([...v].map(decodeValue));
  if (isPlainObject(v)) {
    if (typeof v[TAG] === "string") {
      const revive = revivers.get(v[TAG]);
      if (!revive) throw new Error(`multiproc: no reviver for shared ${v[TAG]} in this child`);
      return revive(decodeValue(v.data));
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = decodeValue(v[k]);
    return out;
  }
  return v;
}

/** Whether `v` holds any handle (so a child must load the shared kinds before decoding). */
export function hasHandles(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasHandles);
  if (v instanceof Map) return [...v.values()].some(hasHandles);
  if (v instanceof Set) return [...v].some(hasHandles);
  if (isPlainObject(v)) return typeof v[TAG] === "string" || Object.values(v).some(hasHandles);
  return false;
}
