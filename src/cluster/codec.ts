/**
 * Values across machines. Structured clone does not cross a network: arguments and results go as
 * MessagePack (msgpackr, with its structured-clone extension: `Date`, `Map`, `Set`, `BigInt`,
 * typed arrays, `undefined`, cycles), base64 in the job (BullMQ stores jobs as JSON); values that
 * JSON gives back exactly (plain arrays and objects of finite numbers, strings, booleans, null)
 * go as JSON text behind a mark instead (`jsonSafe`). Errors keep their name, message, stack,
 * cause and own fields, and come back as this library's error class of that name (or the
 * built-in one). What cannot cross is refused where it is passed (sendable.ts).
 * @module
 */
import { errorClassNamed } from "../core/errors.ts";
import { importClusterPackage, missingPackages } from "./broker.ts";
import { MAX_TASK_BYTES } from "./protocol.ts";

/** Encodes values to text and back (the same on every runtime). */
export interface Codec {
  /** `value` as text: JSON behind a mark, or MessagePack in base64 (`inline(pack(value))`). */
  encode(value: unknown): string;
  /** A value from `encode`'s text, or from `pack`'s output. */
  decode(packed: Packed): unknown;
  /** `value` as JSON text behind a mark, or as MessagePack bytes (no base64: a key of its own). */
  pack(value: unknown): Packed;
  /** `pack`'s output as text for a job (MessagePack in base64). */
  inline(packed: Packed): string;
  /** How many bytes `packed` takes as Redis keeps it (text in UTF-8). */
  bytes(packed: Packed): number;
  /**
   * `packed` as ioredis writes it whole: bytes as a `Buffer` over the same memory (a typed array
   * that is not one, as bytes come from a child on Deno, it would write as text).
   */
  forRedis(packed: Packed): Packed;
}

/** A value packed: JSON text behind a mark, or MessagePack bytes. */
export type Packed = string | Uint8Array;

interface Msgpackr {
  Packr: new(options: { structuredClone: boolean; moreTypes: boolean }) => {
    pack(value: unknown): Uint8Array;
    unpack(bytes: Uint8Array): unknown;
  };
  addExtension(extension: {
    Class: unknown;
    type: number;
    write(value: never): unknown;
    read(data: never): unknown;
  }): void;
}

interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  hasCause: boolean;
  props: Record<string, unknown>;
  errors?: unknown[];
}

/** MessagePack extension type of an error (unused by msgpackr itself). */
const ERROR_TYPE = 0x45;

function writeError(e: Error): ErrorData {
  const { name: _n, message: _m, stack: _s, cause, ...props } = e as
    & Error
    & Record<string, unknown>;
  const data: ErrorData = {
    name: e.name,
    message: e.message,
    stack: e.stack,
    cause,
    hasCause: "cause" in e,
    props,
  };
  if (e instanceof AggregateError) data.errors = e.errors;
  return data;
}

function readError(d: ErrorData): Error {
  const options = d.hasCause ? { cause: d.cause } : undefined;
  const Class = errorClassNamed(d.name) ?? Error;
  const e = d.errors
    ? new AggregateError(d.errors, d.message, options)
    : new Class(d.message, options);
  if (e.name !== d.name) define(e, "name", d.name);
  define(e, "stack", d.stack);
  return Object.assign(e, d.props);
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true });
}

/**
 * Values that JSON gives back as MessagePack would (finite numbers -- -0 comes back 0 from both --,
 * strings, booleans, null, and plain arrays and objects of them, each object met once) go as JSON
 * text after this mark, which base64 never holds: JSON.parse and JSON.stringify are the runtime's
 * own code, where msgpackr's large functions must be compiled by each process's JIT (on Bun, a
 * child's JIT threads spent as much CPU as its main thread on a map's chunks). Anything else goes
 * as MessagePack. The check walks the value once before the runtime's stringify walks it again: a
 * walk that wrote the text itself would be JavaScript, slower than the runtime's own.
 */
const JSON_MARK = "~";
const JSON_MARK_CODE = JSON_MARK.charCodeAt(0);
/** Deeper values go as MessagePack (a cycle among them, say). */
const JSON_DEPTH = 64;

/** Whether JSON.parse(JSON.stringify(value)) gives back what MessagePack would. */
function jsonSafe(value: unknown): boolean {
  let seen: Set<object> | undefined;
  const safe = (v: unknown, depth: number): boolean => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return true;
      case "number":
        return Number.isFinite(v);
      case "object": {
        if (v === null) return true;
        if (depth >= JSON_DEPTH) return false;
        // Each object once: MessagePack (structured clone) keeps a shared object shared.
        seen ??= new Set();
        if (seen.has(v)) return false;
        seen.add(v);
        const proto = Object.getPrototypeOf(v);
        if (proto === Array.prototype) {
          const a = v as unknown[];
          if (Object.hasOwn(a, "toJSON")) return false; // JSON.stringify would call it
          // A hole reads as undefined: not JSON.
          for (let i = 0; i < a.length; i++) if (!safe(a[i], depth + 1)) return false;
          return true;
        }
        if (proto !== Object.prototype) return false; // Date, Map, Error, a class's instance
        const o = v as Record<string, unknown>;
        for (const key in o) {
          if (key === "__proto__" || !Object.hasOwn(o, key) || !safe(o[key], depth + 1)) {
            return false;
          }
        }
        return true;
      }
      default:
        return false; // undefined, bigint, a function, a symbol
    }
  };
  return safe(value, 0);
}

let loaded: Promise<Codec> | undefined;

/** The codec, loading msgpackr on first use (a program without a cluster never loads it). */
export function loadCodec(): Promise<Codec> {
  return loaded ??= (async () => {
    const { Packr, addExtension } = await importClusterPackage<Msgpackr>("msgpackr").catch(
      (error) => {
        loaded = undefined;
        throw new Error(missingPackages("multiproc cluster", error), { cause: error });
      },
    );
    const { Buffer } = await import("node:buffer");
    addExtension({ Class: Error, type: ERROR_TYPE, write: writeError, read: readError });
    const packr = new Packr({ structuredClone: true, moreTypes: true });
    const pack = (value: unknown): Packed =>
      jsonSafe(value) ? JSON_MARK + JSON.stringify(value) : packr.pack(value);
    const inline = (packed: Packed): string =>
      typeof packed === "string"
        ? packed
        : Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).toString("base64");
    return {
      encode: (value) => inline(pack(value)),
      decode: (packed) =>
        typeof packed !== "string"
          ? packr.unpack(packed)
          : packed.charCodeAt(0) === JSON_MARK_CODE
          ? JSON.parse(packed.slice(1))
          : packr.unpack(Buffer.from(packed, "base64")),
      pack,
      inline,
      bytes: (packed) =>
        typeof packed === "string" ? Buffer.byteLength(packed, "utf8") : packed.byteLength,
      forRedis: (packed) =>
        typeof packed === "string" || Buffer.isBuffer(packed)
          ? packed
          : Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength),
    };
  })();
}

/**
 * `bytes` as bytes of their own: a view of part of a larger buffer (msgpackr packs into one) is
 * copied, as a message would carry all of its buffer.
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

/** `bytes` for a message: in MiB from 1 MiB on. */
function sizeOf(bytes: number): string {
  return bytes < 1 << 20 ? `${bytes} bytes` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/**
 * How many bytes `packed` (encoded data) takes if that is more than `limit` (a `maxTaskBytes`);
 * else undefined, at once for a text that cannot be over it.
 */
export function bytesOver(codec: Codec, packed: Packed, limit: number): number | undefined {
  // JSON is mostly ASCII; no character takes more than 3 bytes (a pair takes 4).
  if (typeof packed === "string" && packed.length * 3 <= limit) return undefined;
  const bytes = codec.bytes(packed);
  return bytes > limit ? bytes : undefined;
}

/**
 * What a task's `side` belongs to, for errors: "the arguments of f", "the result of f", or a
 * chunk's ("the results of a chunk of 3 calls of f"; `columns`: the chunk's columns of arguments).
 */
export function valuesOf(side: "arguments" | "result", name: string, columns?: unknown[]): string {
  const noun = side === "arguments" ? "arguments" : columns ? "results" : "result";
  return columns
    ? `the ${noun} of a chunk of ${(columns[0] as unknown[]).length} calls of ${name}`
    : `the ${noun} of ${name}`;
}

/**
 * The error of a task's `side` ("arguments", going to a worker, or "result", coming back) that
 * takes `bytes` encoded, over `limit` (a `maxTaskBytes`), or that cannot be encoded at all
 * (`bytes` undefined: `cause`). `what` names them ("the arguments of 'f'"); `chunk`: a chunk's,
 * which a smaller `chunksize` makes smaller. Says what to do.
 */
export function tooLarge(
  what: string,
  side: "arguments" | "result",
  chunk: boolean,
  bytes: number | undefined,
  limit: number,
  cause?: unknown,
): RangeError {
  const plural = side === "arguments" || chunk;
  const size = bytes === undefined
    ? `${plural ? "are" : "is"} too large to encode (${(cause as Error)?.message})`
    : `${plural ? "take" : "takes"} ${sizeOf(bytes)} encoded, more than maxTaskBytes (${
      sizeOf(limit)
    })`;
  const store = "(a file on shared storage, an object store)";
  const instead = side === "arguments"
    ? `put large data where every worker can read it ${store} and pass its name`
    : `write large results where the client can read them ${store} and return their name`;
  const remedy = `${instead}${chunk ? ", or use a smaller chunksize" : ""}; or raise ${
    side === "arguments" ? "" : "the client's "
  }maxTaskBytes (at most ${MAX_TASK_BYTES / (1 << 20)} MiB)`;
  return new RangeError(`${what} ${size}: ${remedy}.`, { cause });
}
