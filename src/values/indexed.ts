/**
 * Index access (`a[i]`, `a[i] = v`, `i in a`) for the shared sequences (`SharedArray`,
 * `ShareableList`): a `Proxy` that sends integer keys to the object's `get`/`set`, refuses other
 * numbers (`a[1.5]`) and assignments to read-only properties (`a.length = 0`) with a clear error,
 * and sends everything else to the object itself, with its methods bound once.
 * @module
 */
import { shown } from "../core/options.ts";

/** What an indexable sequence has. */
interface Sequence {
  readonly length: number;
  get(i: number): unknown;
  set(i: number, v: never): void;
}

/** Whether property `p` is an integer index (negative ones included). */
function isIndex(p: string | symbol): boolean {
  if (typeof p !== "string" || p.length === 0) return false;
  const c = p.charCodeAt(0);
  return ((c >= 48 && c <= 57) || c === 45) && String(Number(p)) === p
    && Number.isInteger(Number(p));
}

/** Whether property `p` is a number that is no integer index (`1.5`, `NaN`, `Infinity`). */
function isFraction(p: string | symbol): boolean {
  if (typeof p !== "string" || p.length === 0) return false;
  const c = p.charCodeAt(0); // a digit, "-", "N" (NaN) or "I" (Infinity): a method name is not
  return ((c >= 48 && c <= 57) || c === 45 || c === 78 || c === 73) && String(Number(p)) === p;
}

/** The error for index `p` (a fraction) of `t`: Python's "indices must be integers". */
function notAnIndex(t: object, p: string): TypeError {
  return new TypeError(
    `${t.constructor.name}[${p}]: an index must be an integer; round it first (Math.floor)`,
  );
}

/**
 * The error of `call` (e.g. `"SharedArray.set"`) given `i`, no number, as an index: `a.set(1n,
 * v)` said "set(1): index out of range", and `a.set([1, 2])` (a typed array's copy-in)
 * "set(1,2): index out of range".
 */
export function nonNumberIndex(call: string, i: unknown): TypeError {
  return new TypeError(
    `${call}(${shown(i)}): an index must be a number`
      + (typeof i === "bigint" ? "; convert it with Number()" : "")
      + (typeof i === "object" && i !== null
        ? "; to copy many values in, set each: values.forEach((v, k) => (a[k] = v))"
        : ""),
  );
}

/**
 * Sets the properties `props` of `target` read-only (as `length`: a sequence's is fixed when it
 * is made); assigning one then throws a clear error through `indexed`.
 */
export function readOnly(target: object, props: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(props)) {
    Object.defineProperty(target, name, { value, writable: false, enumerable: true });
  }
}

/** `target` with index access; a constructor returns it in place of `this`. */
export function indexed<T extends Sequence>(target: T): T {
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(target, {
    get(t, p) {
      if (isIndex(p)) return t.get(Number(p as string));
      if (isFraction(p)) throw notAnIndex(t, p as string);
      const v = Reflect.get(t, p, t);
      if (typeof v !== "function" || p === "constructor") return v;
      let f = bound.get(p);
      if (!f) bound.set(p, f = v.bind(t));
      return f;
    },
    set(t, p, v) {
      if (isIndex(p)) t.set(Number(p as string), v as never);
      else if (isFraction(p)) throw notAnIndex(t, p as string);
      else if (!Reflect.set(t, p, v, t)) {
        throw new TypeError(
          `${t.constructor.name}.${String(p)} is read-only`
            + (p === "length" ? ": the length is fixed when it is made; make a new one" : ""),
        );
      }
      return true;
    },
    has(t, p) {
      if (isIndex(p)) return Number(p as string) >= 0 && Number(p as string) < t.length;
      return Reflect.has(t, p);
    },
  });
}
