/**
 * Index access (`a[i]`, `a[i] = v`, `i in a`) for the shared sequences (`SharedArray`,
 * `ShareableList`): a `Proxy` that sends integer keys to the object's `get`/`set` and everything
 * else to the object itself, with its methods bound once.
 * @module
 */

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

/** `target` with index access; a constructor returns it in place of `this`. */
export function indexed<T extends Sequence>(target: T): T {
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(target, {
    get(t, p) {
      if (isIndex(p)) return t.get(Number(p as string));
      const v = Reflect.get(t, p, t);
      if (typeof v !== "function" || p === "constructor") return v;
      let f = bound.get(p);
      if (!f) bound.set(p, f = v.bind(t));
      return f;
    },
    set(t, p, v) {
      if (isIndex(p)) t.set(Number(p as string), v as never);
      else return Reflect.set(t, p, v, t);
      return true;
    },
    has(t, p) {
      if (isIndex(p)) return Number(p as string) >= 0 && Number(p as string) < t.length;
      return Reflect.has(t, p);
    },
  });
}
