/**
 * What a `ClusterExecutor` refuses to send, in the caller, as a local pool refuses what structured
 * clone cannot carry: values that MessagePack would change on the way instead of refusing
 * (a function, a `WeakMap` or a `Promise` would arrive as `undefined` or `{}`, a sparse array's
 * holes filled), a symbol, and shared objects, which live in one machine's memory. One walk of
 * each argument, cycles and shared references met once.
 * @module
 */
import { functionText } from "../core/options.ts";
import { HANDLE, type Shareable } from "../handles/handle.ts";

/** Objects that would arrive as `{}` (their state is not in their own fields). */
const OPAQUE: [abstract new(...args: never[]) => unknown, string][] = [
  [WeakMap, "a WeakMap"],
  [WeakSet, "a WeakSet"],
  [WeakRef, "a WeakRef"],
  [Promise, "a Promise (await it and pass its value)"],
];

/** Objects sent whole by the codec: nothing inside them to look at. */
const LEAVES: (abstract new(...args: never[]) => unknown)[] = [Date, RegExp, ArrayBuffer];

/** Why `v` cannot cross, if it cannot: a shared object's kind, or a description. */
type Refusal = { shared: string } | { other: string };

/** The first thing in `v` that cannot cross, or null; `seen`: objects already walked. */
function refusalIn(v: unknown, seen: Set<object>): Refusal | null {
  if (typeof v === "function") return { other: `a function (${functionText(v)})` };
  if (typeof v === "symbol") return { other: `a symbol (${String(v)})` };
  if (typeof v !== "object" || v === null || seen.has(v)) return null;
  seen.add(v);
  if (typeof (v as Shareable)[HANDLE] === "function") {
    return { shared: (v as Shareable)[HANDLE]().kind };
  }
  for (const [Class, what] of OPAQUE) if (v instanceof Class) return { other: what };
  if (ArrayBuffer.isView(v) || LEAVES.some((Class) => v instanceof Class)) return null;
  if (Array.isArray(v)) return arrayRefusal(v, seen);
  const items = v instanceof Map
    ? [...v.keys(), ...v.values()]
    : v instanceof Set
    ? v.values()
    : v instanceof Error
    ? [v.cause, ...Object.values(v)]
    : Object.values(v);
  for (const item of items) {
    const found = refusalIn(item, seen);
    if (found) return found;
  }
  return null;
}

/** `refusalIn` for an array: a hole is refused (MessagePack would fill it). */
function arrayRefusal(a: unknown[], seen: Set<object>): Refusal | null {
  for (let i = 0; i < a.length; i++) {
    if (!(i in a)) {
      return { other: `a sparse array (no element at index ${i}; it would arrive filled)` };
    }
    const found = refusalIn(a[i], seen);
    if (found) return found;
  }
  return null;
}

/** Throws the `TypeError` for argument `i` of `what` if it cannot cross. */
function checkSendable(arg: unknown, i: number, what: string): void {
  // A number, a string, a boolean, undefined: crosses as it is.
  const type = typeof arg;
  if (arg === null || (type !== "object" && type !== "function" && type !== "symbol")) return;
  const refused = refusalIn(arg, new Set());
  if (!refused) return;
  if ("shared" in refused) {
    throw new TypeError(
      `${what}: argument ${i} holds a ${refused.shared}, a shared object of this machine's `
        + `memory, which cannot go to another machine. Pass its data instead (e.g. value.value, or `
        + `an array) and return results from the task.`,
    );
  }
  throw new TypeError(
    `${what}: argument ${i} cannot be sent to a cluster worker: it ${
      typeof arg === "object" ? "holds" : "is"
    } ${refused.other}. Pass data (numbers, strings, booleans, arrays, plain objects, Map, Set, `
      + `Date, typed arrays, errors); a function runs on a worker only as the task itself.`,
  );
}

/**
 * What in `value` cannot cross unchanged (a task's result, say), described ("a function (...)",
 * "a Value, a shared object of this machine's memory"), or null if it can.
 */
export function unsendable(value: unknown): string | null {
  const refused = refusalIn(value, new Set());
  if (!refused) return null;
  return "shared" in refused
    ? `a ${refused.shared}, a shared object of this machine's memory`
    : refused.other;
}

/** `unsendable` for the items of `items` there are (a hole is skipped: a chunk's failed call). */
export function unsendableItems(items: readonly unknown[]): string | null {
  for (let i = 0; i < items.length; i++) {
    const found = i in items ? unsendable(items[i]) : null;
    if (found !== null) return found;
  }
  return null;
}

/**
 * Refuses, in the caller, arguments that cannot go to a worker unchanged: a `TypeError` naming
 * the call (`what`), the argument's position, what it holds and the remedy.
 */
export function refuseUnsendable(args: readonly unknown[], what: string): void {
  for (let i = 0; i < args.length; i++) checkSendable(args[i], i, what);
}

/** `refuseUnsendable` for calls given as columns of their arguments (column `i`: argument `i`). */
export function refuseUnsendableColumns(columns: readonly unknown[][], what: string): void {
  columns.forEach((column, i) => {
    for (const arg of column) checkSendable(arg, i, what);
  });
}
