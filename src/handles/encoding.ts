/**
 * Values crossing to a child: shared objects in them as handles (`handle.ts`), also nested in
 * arrays, plain objects, Maps and Sets, and with cycles; everything else as structured clone,
 * checked here so that a value that cannot cross fails at the call that sent it.
 * @module
 */
import { clauseOf } from "../core/errors.ts";
import { functionText } from "../core/options.ts";
import { memoryOf } from "../core/start_method.ts";
import type { StartMethod } from "../state/start_method.ts";
import {
  HANDLE,
  HANDLE_TAG as TAG,
  isShareable,
  kindNamed,
  Origin,
  type Shareable,
} from "./handle.ts";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * How `encodeArgs` makes sure values cross. `"clone"`: each is structured-cloned once here, for a
 * send that must not fail later. `"walk"`: only a value the encoding walk cannot prove cloneable
 * (a function, a symbol, an object other than an array, plain object, Map or Set) is cloned; for
 * senders that report a failed send as the failure of what it carried (a pool's tasks, a queue's
 * items). Cloning every plain object once more only to check it cost more than sending it
 * (100 000 small objects: ~85 ms on Node, ~200 ms on Deno).
 */
export type CrossCheck = "clone" | "walk";

/** What `encodeArgs` tells its caller: whether it made any handle (a child must revive them). */
export interface Encoding {
  handles: boolean;
  /** Set if a handle carries a `SharedArrayBuffer` (a "thread" object's memory). */
  sharedBuffers?: boolean;
}

/**
 * Replaces shareable objects with handles for a child started with `method`, and checks that the
 * rest can be cloned (as `check` says). `where(i)` describes position `i` for error messages;
 * `encoding.handles` is set if a handle was made.
 */
export function encodeArgs(
  args: readonly unknown[],
  method: StartMethod,
  where: (i: number) => string,
  check: CrossCheck = "clone",
  encoding?: Encoding,
): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    out[i] = crossesAsIs(arg) ? arg : encodeChecked(arg, method, () => where(i), check, encoding);
  }
  return out;
}

/** Whether `arg` crosses to any child as it is: a primitive (other than a symbol). */
export function crossesAsIs(arg: unknown): boolean {
  return arg === null
    || (typeof arg !== "object" && typeof arg !== "function" && typeof arg !== "symbol");
}

/**
 * The error for a value (`what`) that cannot be sent to a child: `cause`, structured clone's
 * error (then `culprit`, what it refused, where the error does not say), and what to pass instead.
 */
export function notCloneable(what: string, cause: unknown, culprit = ""): TypeError {
  return new TypeError(
    `${what} cannot be sent to a child: ${clauseOf(cause)}${culprit}. `
      + `Pass data that structured clone accepts (no functions, class instances lose their `
      + `methods), or a shared object such as Value, SharedArray, Queue or Lock.`,
    { cause },
  );
}

/**
 * What one encoding walks through: its child's method, where it is, what it could not prove, and
 * whether it made a handle.
 */
interface Walk {
  readonly method: StartMethod;
  readonly where: () => string;
  /** A value met that structured clone may refuse. */
  unproven: boolean;
  handles: boolean;
  /** A handle met that carries a `SharedArrayBuffer`. */
  sharedBuffers: boolean;
  /** Containers entered and not yet left (see `DEEP`). */
  depth: number;
  /** Once the walk started over: each container's copy, so that one met again is not copied twice. */
  copies: Map<object, unknown> | null;
}

/**
 * Containers (arrays, plain objects, Maps, Sets) nested deeper than this are taken for a cycle
 * (`a.self = a`): the walk starts over (`STARTS_OVER`), remembering each container it has met, so
 * that a cycle is followed once and one object met twice stays one, as structured clone keeps
 * them. Data without cycles pays nothing for it: no set of objects seen, only a depth.
 */
const DEEP = 200;
const STARTS_OVER: unique symbol = Symbol("a cycle: start over");

/** Runs a walk `fn(memo)` without a memo, and again with one if it went deeper than `DEEP`. */
function cycleSafe<T, M>(fn: (memo: M | null) => T, memo: () => M): T {
  try {
    return fn(null);
  } catch (thrown) {
    if (thrown !== STARTS_OVER) throw thrown;
    return fn(memo());
  }
}

/** `arg` encoded, checked to cross (a `TypeError` that names `where()` if it cannot). */
function encodeChecked(
  arg: unknown,
  method: StartMethod,
  where: () => string,
  check: CrossCheck,
  encoding: Encoding | undefined,
): unknown {
  let walk!: Walk;
  const encoded = cycleSafe((copies) => {
    walk = {
      method,
      where,
      unproven: false,
      handles: false,
      sharedBuffers: false,
      depth: 0,
      copies,
    };
    return encodeValue(arg, walk);
  }, () => new Map<object, unknown>());
  if (walk.handles && encoding) encoding.handles = true;
  if (walk.sharedBuffers && encoding) encoding.sharedBuffers = true;
  if (check === "clone" || walk.unproven) {
    const refused = cloneRefusal(encoded, where);
    if (refused) throw refused;
  }
  return encoded;
}

/**
 * Null if `value` structured-clones; else the error that it cannot be sent to a child, naming it
 * (`where()`).
 */
export function cloneRefusal(value: unknown, where: () => string): TypeError | null {
  try {
    structuredClone(value);
    return null;
  } catch (error) {
    // Bun's error does not say what it refused ("The object can not be cloned"): name it.
    let culprit: string | undefined;
    try {
      culprit = uncloneable(value, new Set());
    } catch {
      // a getter that throws: left unnamed
    }
    const clause = clauseOf(error);
    const named = culprit === undefined || clause.includes(culprit) ? "" : ` (${culprit})`;
    return notCloneable(where(), error, named);
  }
}

/** The text of the first function or symbol in `v` (through arrays, objects, Maps and Sets). */
function uncloneable(v: unknown, seen: Set<object>): string | undefined {
  if (typeof v === "function") return functionText(v);
  if (typeof v === "symbol") return String(v);
  if (typeof v !== "object" || v === null || seen.has(v)) return undefined;
  seen.add(v);
  const items = v instanceof Map
    ? [...v.keys(), ...v.values()]
    : v instanceof Set || Array.isArray(v)
    ? [...v]
    : Object.values(v);
  for (const item of items) {
    const found = uncloneable(item, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * `v` with its shared objects replaced by handles (for a child of `walk.method`); arrays, plain
 * objects, Maps and Sets are copied, so the caller's later changes do not reach the child.
 */
function encodeValue(v: unknown, walk: Walk): unknown {
  if (typeof v !== "object" || v === null) {
    if (typeof v === "function" || typeof v === "symbol") walk.unproven = true;
    return v;
  }
  if (isShareable(v)) {
    const state = v[HANDLE]();
    // Objects cross to children that share their memory: process and forkserver children share
    // OS segments, thread children SharedArrayBuffers.
    const { method } = walk;
    if (!state.portable && memoryOf(state.method) !== memoryOf(method)) {
      throw new TypeError(
        `${walk.where()} is a ${state.kind} made for the "${state.method}" start method and `
          + `cannot go to a child started with "${method}": make it with getContext("${method}")`
          + `.${state.kind} (or start the child in the "${state.method}" context).`,
      );
    }
    walk.unproven = true; // its data is the kind's own
    walk.handles = true;
    if (!state.portable && memoryOf(state.method) === "sab") walk.sharedBuffers = true;
    return { [TAG]: state.kind, method, data: encodeValue(state.data, walk) };
  }
  if (!Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !isPlainObject(v)) {
    if (!clonesAsBytes(v)) walk.unproven = true;
    return v;
  }
  const { copies } = walk;
  if (copies) {
    if (copies.has(v)) return copies.get(v);
  } else if (++walk.depth > DEEP) throw STARTS_OVER;
  const out = copyOf(v, walk);
  walk.depth--;
  return out;
}

/** A copy of the container `v`, its items encoded (registered in `walk.copies` first, if kept). */
function copyOf(v: object, walk: Walk): unknown {
  if (Array.isArray(v)) {
    if (!walk.copies) return v.map((x) => encodeValue(x, walk));
    const out = new Array<unknown>(v.length);
    walk.copies.set(v, out);
    for (let i = 0; i < v.length; i++) if (i in v) out[i] = encodeValue(v[i], walk);
    return out;
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    walk.copies?.set(v, out);
    for (const [k, x] of v) {
      if (crossesAsIs(k)) out.set(k, encodeValue(x, walk));
      else {
        walk.unproven = true;
        out.set(encodeValue(k, walk), encodeValue(x, walk)); // a key may be a shared object too
      }
    }
    return out;
  }
  if (v instanceof Set) {
    const out = new Set<unknown>();
    walk.copies?.set(v, out);
    for (const x of v) out.add(encodeValue(x, walk));
    return out;
  }
  const out: Record<string, unknown> = {};
  walk.copies?.set(v, out);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) setOwn(out, k, encodeValue(o[k], walk));
  return out;
}

/**
 * Whether structured clone surely accepts `v` as it is: a typed array, `DataView` or `ArrayBuffer`
 * over bytes of its own (not shared, resizable or detached: those are left to the clone check).
 * Cloning one only to check it copied all its bytes once more: a 64 MB argument took ~0.5 s.
 */
function clonesAsBytes(v: object): boolean {
  const buffer = ArrayBuffer.isView(v) ? v.buffer : v;
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0
    && !(buffer as { resizable?: boolean }).resizable;
}

/** Sets `out[k]` as an own property, also when `k` is `"__proto__"` (which would set the prototype). */
function setOwn(out: Record<string, unknown>, k: string, value: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(out, k, { value, writable: true, enumerable: true, configurable: true });
  } else out[k] = value;
}

/** Turns handles back into live shared objects, in a child (cycles kept, as `encodeArgs`'s). */
export function decodeValue(v: unknown): unknown {
  return cycleSafe((copies) => decodeIn(v, { depth: 0, copies }), () => new Map());
}

/** What `decodeIn` walks through: as `Walk`'s `depth` and `copies`. */
interface Decoding {
  depth: number;
  copies: Map<object, unknown> | null;
}

/** `v` with its handles revived: containers copied, as `encodeValue` copies them. */
function decodeIn(v: unknown, d: Decoding): unknown {
  if (typeof v !== "object" || v === null) return v;
  const plain = isPlainObject(v);
  if (!plain && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set)) return v;
  if (plain && typeof v[TAG] === "string") {
    const cls = kindNamed(v[TAG]);
    if (!cls) throw new Error(`multiproc: no reviver for shared ${v[TAG]} in this child`);
    return cls.fromHandle(Origin.revive(v.method as StartMethod, decodeIn(v.data, d)));
  }
  if (d.copies) {
    if (d.copies.has(v)) return d.copies.get(v);
  } else if (++d.depth > DEEP) throw STARTS_OVER;
  let out: unknown;
  if (Array.isArray(v)) {
    const a = new Array<unknown>(v.length);
    d.copies?.set(v, a);
    for (let i = 0; i < v.length; i++) if (i in v) a[i] = decodeIn(v[i], d);
    out = a;
  } else if (v instanceof Map) {
    const m = new Map<unknown, unknown>();
    d.copies?.set(v, m);
    for (const [k, x] of v) m.set(decodeIn(k, d), decodeIn(x, d));
    out = m;
  } else if (v instanceof Set) {
    const set = new Set<unknown>();
    d.copies?.set(v, set);
    for (const x of v) set.add(decodeIn(x, d));
    out = set;
  } else {
    const o: Record<string, unknown> = {};
    d.copies?.set(v, o);
    const from = v as Record<string, unknown>;
    for (const k of Object.keys(from)) setOwn(o, k, decodeIn(from[k], d));
    out = o;
  }
  d.depth--;
  return out;
}

/** Whether `v` holds any handle (so a child must load the shared kinds before decoding). */
export function hasHandles(v: unknown): boolean {
  return firstIn(v, (x) => isPlainObject(x) && typeof x[TAG] === "string") !== null;
}

/**
 * The kind of the first shared object found in `v` (arrays, maps, sets and plain objects are
 * searched), or null: for callers whose values leave this machine, where no handle can go.
 */
export function sharedKindIn(v: unknown): string | null {
  const found = firstIn(v, isShareable);
  return found === null ? null : (found as Shareable)[HANDLE]().kind;
}

/**
 * The first value in `v` (itself, or through arrays, Maps' keys and values, Sets and plain objects) that
 * `is` says is the one, or null; a cycle ends (see `DEEP`).
 */
function firstIn(v: unknown, is: (x: object) => boolean): object | null {
  return cycleSafe((seen) => searched(v, is, { depth: 0, seen }), () => new Set<object>());
}

/** `firstIn`'s walk: each container looked through once its `seen` is kept. */
function searched(
  v: unknown,
  is: (x: object) => boolean,
  walk: { depth: number; seen: Set<object> | null },
): object | null {
  if (typeof v !== "object" || v === null) return null;
  if (is(v)) return v;
  const items = Array.isArray(v) || v instanceof Set
    ? v
    : v instanceof Map
    ? [...v.keys(), ...v.values()]
    : isPlainObject(v)
    ? Object.values(v)
    : null;
  if (items === null) return null;
  if (walk.seen) {
    if (walk.seen.has(v)) return null;
    walk.seen.add(v);
  } else if (++walk.depth > DEEP) throw STARTS_OVER;
  for (const x of items) {
    const found = searched(x, is, walk);
    if (found !== null) return found;
  }
  walk.depth--;
  return null;
}
