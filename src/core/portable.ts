/**
 * A portable structured serialization: what structured clone accepts, to bytes that any runtime
 * reads back. V8's format (Deno, Node) and JavaScriptCore's (Bun) do not read each other, and the
 * programs at the two ends of a socket may run different runtimes. Covers `undefined`, `null`,
 * booleans, numbers, bigints, strings, arrays, plain objects, `Map`, `Set`, `Date`, `RegExp`,
 * `ArrayBuffer`, typed arrays, `DataView` and errors (name, message, stack, cause, own fields),
 * with shared and circular references kept. Anything else (functions, symbols, class instances
 * with methods lose their prototype as in structured clone) is refused or flattened likewise.
 * @module
 */
import { ByteReader, ByteWriter } from "./byte_stream.ts";

const UNDEFINED = 0, NULL = 1, TRUE = 2, FALSE = 3, INT = 4, FLOAT = 5, STRING = 6, BIGINT = 7;
const ARRAY = 8, OBJECT = 9, MAP = 10, SET = 11, DATE = 12, REGEXP = 13, BUFFER = 14;
const TYPED = 15, ERROR = 16, REF = 17, VIEW = 18, EXTENSION = 19;

const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/**
 * How objects beyond plain data cross: `replace` is asked about each object whose prototype is
 * not `Object.prototype` (class instances) and returns `[kind, data]` to send it as an extension,
 * or null to send its own fields (structured clone's way); `revive(kind, data)` rebuilds one.
 */
export interface Extensions {
  replace(v: object, path: string): [string, unknown] | null;
  revive(kind: string, data: unknown): unknown;
}

class Writer extends ByteWriter {
  ext: Extensions | undefined = undefined;
  seen = new Map<object, number>();
  busy = false;
}

class Reader extends ByteReader {
  refs: unknown[] = [];
  readonly ext: Extensions | undefined;
  constructor(bytes: Uint8Array, ext: Extensions | undefined) {
    super(bytes);
    this.ext = ext;
  }
}

/** One writer reused from one message to the next (a new one while it is in use: re-entry). */
const shared = new Writer();

/**
 * The portable bytes of `value`, after `header` bytes left for the caller (a frame's length and
 * kind), in an array of their own; a `TypeError` naming the path of what cannot be serialized.
 */
export function encodePortable(value: unknown, ext?: Extensions, header = 0): Uint8Array {
  return encoded(value, ext, header, (w) => w.bytes.slice(0, w.at));
}

/**
 * Writes the portable bytes of `value` into `target` (shared memory, say), with no array of
 * their own: how many, or -1 if they do not fit (`target` may then hold some of them).
 */
export function encodePortableInto(value: unknown, ext: Extensions, target: Uint8Array): number {
  return encoded(value, ext, 0, (w) => {
    if (w.at > target.length) return -1;
    target.set(w.bytes.subarray(0, w.at));
    return w.at;
  });
}

function encoded<T>(
  value: unknown,
  ext: Extensions | undefined,
  header: number,
  take: (w: Writer) => T,
): T {
  const w = shared.busy ? new Writer() : shared;
  w.busy = true;
  w.ext = ext;
  w.at = header;
  try {
    write(w, value, "value");
    return take(w);
  } finally {
    w.busy = false;
    w.ext = undefined;
    if (w.seen.size) w.seen.clear();
  }
}

/** The value of `encodePortable`'s bytes. */
export function decodePortable(bytes: Uint8Array, ext?: Extensions): unknown {
  const r = new Reader(bytes, ext);
  return read(r);
}

/**
 * The path of a value for errors: `path`, then `key` (an index, or a field's name) if given. Put
 * together only for objects and for what cannot be sent: a message's numbers and strings cost no
 * string of their own.
 */
function pathOf(path: string, key: string | number | undefined): string {
  if (key === undefined) return path;
  return typeof key === "number" ? `${path}[${key}]` : `${path}.${key}`;
}

function write(w: Writer, v: unknown, parent: string, key?: string | number): void {
  switch (typeof v) {
    case "undefined":
      return w.byte(UNDEFINED);
    case "boolean":
      return w.byte(v ? TRUE : FALSE);
    case "number":
      if (Number.isInteger(v) && v >= 0 && v < 2 ** 31 && !Object.is(v, -0)) {
        w.byte(INT);
        return w.size(v);
      }
      w.byte(FLOAT);
      return w.float(v);
    case "string":
      w.byte(STRING);
      return w.string(v);
    case "bigint": {
      w.byte(BIGINT);
      w.byte(v < 0n ? 1 : 0);
      return w.string((v < 0n ? -v : v).toString(16));
    }
    case "object":
      if (v === null) return w.byte(NULL);
      return writeObject(w, v, pathOf(parent, key));
    default:
      throw new TypeError(
        `${
          pathOf(parent, key)
        } is a ${typeof v}, which cannot be sent: send data (numbers, strings, arrays, plain `
          + `objects, Map, Set, Date, typed arrays, errors)`,
      );
  }
}

function writeObject(w: Writer, v: object, path: string): void {
  const ref = w.seen.get(v);
  if (ref !== undefined) {
    w.byte(REF);
    return w.size(ref);
  }
  w.seen.set(v, w.seen.size);
  if (Array.isArray(v)) {
    w.byte(ARRAY);
    w.size(v.length);
    for (let i = 0; i < v.length; i++) write(w, v[i], path, i);
  } else if (v instanceof Map) {
    w.byte(MAP);
    w.size(v.size);
    for (const [k, x] of v) {
      write(w, k, `${path} key`);
      write(w, x, `${path}.get(${String(k)})`);
    }
  } else if (v instanceof Set) {
    w.byte(SET);
    w.size(v.size);
    for (const x of v) write(w, x, `${path} member`);
  } else if (v instanceof Date) {
    w.byte(DATE);
    w.float(v.getTime());
  } else if (v instanceof RegExp) {
    w.byte(REGEXP);
    w.string(v.source);
    w.string(v.flags);
  } else if (v instanceof ArrayBuffer) {
    w.byte(BUFFER);
    w.raw(new Uint8Array(v));
  } else if (v instanceof DataView) {
    w.byte(VIEW);
    w.raw(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (ArrayBuffer.isView(v)) {
    const kind = TYPED_ARRAYS.findIndex((T) => v instanceof T);
    w.byte(TYPED);
    w.byte(kind);
    w.raw(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else if (v instanceof Error) {
    w.byte(ERROR);
    w.string(v.name);
    w.string(v.message);
    write(w, v.stack, path, "stack");
    write(w, "cause" in v ? v.cause : undefined, path, "cause");
    writeFields(w, v, path, (k) => k !== "stack" && k !== "message" && k !== "cause");
  } else if (typeof (v as { then?: unknown }).then === "function") {
    throw new TypeError(`${path} is a Promise, which cannot be sent: await it first`);
  } else {
    const proto = Object.getPrototypeOf(v);
    const special = proto !== Object.prototype && proto !== null ? w.ext?.replace(v, path) : null;
    if (special) {
      w.byte(EXTENSION);
      w.string(special[0]);
      write(w, special[1], path);
      return;
    }
    w.byte(OBJECT);
    writeFields(w, v as Record<string, unknown>, path, () => true);
  }
}

function writeFields(
  w: Writer,
  v: object,
  path: string,
  keep: (k: string) => boolean,
): void {
  const keys = Object.keys(v).filter(keep);
  w.size(keys.length);
  for (const k of keys) {
    w.string(k);
    write(w, (v as Record<string, unknown>)[k], path, k);
  }
}

function read(r: Reader): unknown {
  const tag = r.bytes[r.at++];
  switch (tag) {
    case UNDEFINED:
      return undefined;
    case NULL:
      return null;
    case TRUE:
      return true;
    case FALSE:
      return false;
    case INT:
      return r.size();
    case FLOAT:
      return r.float();
    case STRING:
      return r.string();
    case BIGINT: {
      const negative = r.bytes[r.at++] === 1;
      const n = BigInt(`0x${r.string()}`);
      return negative ? -n : n;
    }
    case REF:
      return r.refs[r.size()];
    default:
      return readObject(r, tag);
  }
}

function readObject(r: Reader, tag: number): unknown {
  const slot = r.refs.length;
  r.refs.push(undefined);
  const keep = <T>(x: T): T => (r.refs[slot] = x);
  switch (tag) {
    case ARRAY: {
      const a = keep(new Array(r.size()));
      for (let i = 0; i < a.length; i++) a[i] = read(r);
      return a;
    }
    case OBJECT:
      return readFields(r, keep({} as Record<string, unknown>));
    case MAP: {
      const m = keep(new Map());
      for (let n = r.size(); n > 0; n--) m.set(read(r), read(r));
      return m;
    }
    case SET: {
      const s = keep(new Set());
      for (let n = r.size(); n > 0; n--) s.add(read(r));
      return s;
    }
    case DATE:
      return keep(new Date(r.float()));
    case REGEXP:
      return keep(new RegExp(r.string(), r.string()));
    case BUFFER:
      return keep(r.raw().buffer);
    case VIEW:
      return keep(new DataView(r.raw().buffer));
    case TYPED: {
      const T = TYPED_ARRAYS[r.bytes[r.at++]] ?? Uint8Array;
      const b = r.raw();
      return keep(new T(b.buffer as ArrayBuffer, 0, b.byteLength / T.BYTES_PER_ELEMENT));
    }
    case ERROR: {
      const name = r.string();
      const e = keep(new (ERRORS[name] ?? Error)(r.string()));
      if (!(name in ERRORS)) e.name = name;
      const stack = read(r);
      if (stack !== undefined) e.stack = stack as string;
      const cause = read(r);
      if (cause !== undefined) {
        // As `new Error(message, { cause })` makes it: own, not enumerable.
        Object.defineProperty(e, "cause", { value: cause, writable: true, configurable: true });
      }
      return readFields(r, e as unknown as Record<string, unknown>);
    }
    case EXTENSION: {
      const kind = r.string();
      const data = read(r);
      if (!r.ext) {
        throw new Error(`multiproc: a message holds a ${kind}, which nothing here revives`);
      }
      return keep(r.ext.revive(kind, data));
    }
    default:
      throw new Error(`multiproc: a message is corrupt (tag ${tag} at byte ${r.at - 1})`);
  }
}

function readFields(r: Reader, into: Record<string, unknown>): Record<string, unknown> {
  for (let n = r.size(); n > 0; n--) {
    const k = r.string();
    into[k] = read(r);
  }
  return into;
}
