/**
 * What a ring carries per message: `[kind][tag][data]`. The kind byte is the sender's (with a
 * flag for raw bytes); primitives are tagged and take a few bytes of their own (V8's serializer
 * costs microseconds even for a number), everything else is structured serialization. Small
 * messages are built in a reusable scratch buffer and read where they lie: no typed array is
 * allocated for them (several hundred nanoseconds each on V8). A message over 256 KiB travels
 * out of line, in a named shared-memory segment of its own: it never waits for ring space, and
 * a writer may exit right after `put` (the segment outlives it; the main process's tracker
 * unlinks it if nobody reads it).
 * @module
 */
import { clauseOf } from "../core/errors.ts";
import type { StartMethod } from "../core/start_method.ts";
import {
  decodeValue,
  encodeArgs,
  type Encoding,
  hasHandles,
  notCloneable,
} from "../handles/encoding.ts";
import { track, TrackerFull, untrack } from "../memory/tracker.ts";
import { runtime } from "../runtime/detect.ts";
import { pid } from "../runtime/host.ts";
import { native } from "../runtime/native/mod.ts";
import { fromBytes, toBytes } from "../runtime/serialize.ts";

const CLONE = 0, NUMBER = 1, STRING = 2, NULL = 3, UNDEFINED = 4, TRUE = 5, FALSE = 6, BIGINT = 7;
/** Kind flags: the body is raw bytes (no tag); the body is out of line. */
const RAW = 0x40, OOL = 0x80;
/** Messages up to this size are built in the scratch buffer; larger ones in their own array. */
const SCRATCH_MAX = 64 * 1024;
/** Bodies above this size travel out of line. */
const OUT_OF_LINE = 256 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A growable byte buffer with a view, reused from one message to the next. */
export class Scratch {
  bytes: Uint8Array;
  view: DataView;

  constructor(size = 4096) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` bytes (the contents are not kept). */
  reserve(n: number): void {
    if (n <= this.bytes.length) return;
    this.bytes = new Uint8Array(Math.max(n, 2 * this.bytes.length));
    this.view = new DataView(this.bytes.buffer);
  }
}

/** An encoded message: `bytes[0..length)`, in the scratch (valid until the next encode) or its own. */
export interface Encoded {
  bytes: Uint8Array;
  length: number;
}

const WRITE = new Scratch();

/** Room for `n` bytes: the scratch if small enough, else an array of its own. */
function room(n: number): Uint8Array {
  if (n > SCRATCH_MAX) return new Uint8Array(n);
  WRITE.reserve(n);
  return WRITE.bytes;
}

/** Encodes `value` (already stripped of shared objects) as a message of `kind` (0-63). */
function encodeMessage(kind: number, value: unknown): Encoded {
  let out: Uint8Array;
  switch (typeof value) {
    case "number":
      out = room(10);
      out[0] = kind;
      out[1] = NUMBER;
      WRITE.view.setFloat64(2, value, true);
      return { bytes: out, length: 10 };
    case "string": {
      out = room(2 + value.length * 3);
      out[0] = kind;
      out[1] = STRING;
      const { written } = encoder.encodeInto(value, out.subarray(2));
      return outOfLine({ bytes: out, length: 2 + written });
    }
    case "boolean":
    case "undefined":
      out = room(2);
      out[0] = kind;
      out[1] = value === undefined ? UNDEFINED : value ? TRUE : FALSE;
      return { bytes: out, length: 2 };
    case "bigint":
      return withBody(kind, BIGINT, encoder.encode(value.toString()));
  }
  if (value === null) {
    out = room(2);
    out[0] = kind;
    out[1] = NULL;
    return { bytes: out, length: 2 };
  }
  return withBody(kind, CLONE, toBytes(value));
}

/**
 * Encodes `item` as a message of `kind` for start method `method`, shared objects as handles
 * (`what` names the item in errors).
 */
export function encodeItem(
  kind: number,
  item: unknown,
  method: StartMethod,
  what: string,
): Encoded {
  // Serialized at once: what the encoding cannot prove cloneable is checked by serializing it.
  const encoding: Encoding = { handles: false };
  const [encoded] = encodeArgs([item], method, () => what, "walk", encoding);
  if (encoding.sharedBuffers && runtime !== "deno") {
    // Node's serializer refuses a SharedArrayBuffer, Bun's copies it: the child's object would
    // be another one. Deno's serializer (its postMessage's) shares it.
    const name = runtime === "bun" ? "Bun" : "Node";
    throw new TypeError(
      `${what} holds a shared object (Lock, Event, Value, Queue, ...) of the "thread" start `
        + `method, which cannot go through a Queue or Pipe on ${name}: its serializer does not `
        + `share the SharedArrayBuffer under it. Pass the object to the child as a Process `
        + `argument (or in a Pool's initargs), or use the "process" start method.`,
    );
  }
  try {
    return encodeMessage(kind, encoded);
  } catch (error) {
    throw error instanceof OutOfLine ? error.of(what) : notCloneable(what, error);
  }
}

/** Decodes the item of message `bytes[0..length)`, reviving shared objects (see `decodeMessage`). */
export function decodeItem(bytes: Uint8Array, view: DataView, length: number): unknown {
  const value = decodeMessage(bytes, view, length);
  return typeof value === "object" && hasHandles(value) ? decodeValue(value) : value;
}

/** Encodes raw bytes as a message of `kind` (0-63), for the call `what` (errors name it). */
export function encodeRawMessage(kind: number, body: Uint8Array, what: string): Encoded {
  const out = room(1 + body.length);
  out[0] = kind | RAW;
  out.set(body, 1);
  try {
    return outOfLine({ bytes: out, length: 1 + body.length });
  } catch (error) {
    throw error instanceof OutOfLine ? error.of(what) : error;
  }
}

/** A message too large for the ring whose segment of its own could not be made (`outOfLine`). */
class OutOfLine extends RangeError {
  readonly #size: number;
  readonly #why: string;

  constructor(size: number, cause: unknown) {
    const why = cause instanceof TrackerFull
      ? `${TrackerFull.limit} named segments are alive already (such messages not yet read among `
        + `them)`
      : clauseOf(cause);
    super(`a message of ${size} bytes: no segment of its own could be made: ${why}`, { cause });
    this.#size = size;
    this.#why = why;
  }

  /** This error, as the call `what` (e.g. `"Queue.put(): the item"`) throws it. */
  of(what: string): RangeError {
    return new RangeError(
      `${what} (${this.#size} bytes, over ${OUT_OF_LINE} travel in a shared-memory segment of `
        + `their own) could not be sent: ${this.#why}. Let the other side take some first (start `
        + `it before sending many), or send smaller items.`,
      { cause: this.cause },
    );
  }
}

function withBody(kind: number, tag: number, body: Uint8Array): Encoded {
  const out = room(2 + body.length);
  out[0] = kind;
  out[1] = tag;
  out.set(body, 2);
  return outOfLine({ bytes: out, length: 2 + body.length });
}

function nativeOrNull() {
  try {
    return native();
  } catch {
    return null; // no FFI (Deno without --allow-ffi, "thread"): large bodies stream through the ring
  }
}

/** A large message's body moved to a named segment; the message then carries its name. */
function outOfLine(m: Encoded): Encoded {
  const lib = m.length - 1 > OUT_OF_LINE ? nativeOrNull() : null;
  if (!lib) return m;
  const size = m.length - 1;
  // The maker's pid in the name says whose a segment left behind is.
  const name = `mp_msg_${pid}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  // Tracked before it exists: a process killed in between leaves nothing the sweep misses.
  let mapping: ReturnType<typeof lib.createNamed>;
  try {
    track(name);
    mapping = lib.createNamed(`/${name}`, size);
  } catch (error) {
    untrack(name); // made in vain: its entry would hold a place until the program ends
    throw new OutOfLine(size, error);
  }
  try {
    new Uint8Array(mapping.buffer, 0, size).set(m.bytes.subarray(1, m.length));
  } finally {
    lib.unmap(mapping.address, size);
  }
  const n = encoder.encode(name);
  const out = room(1 + n.length); // the body was over SCRATCH_MAX: not in the scratch
  out[0] = m.bytes[0] | OOL;
  out.set(n, 1);
  return { bytes: out, length: 1 + n.length };
}

/** Where messages taken at once are copied to and decoded from (before anything else runs). */
export const READ: Scratch = new Scratch();

/**
 * Decodes the message `bytes[0..length)` (`view` is a view of `bytes`): its value, or for raw
 * bytes a fresh `Uint8Array`.
 */
export function decodeMessage(bytes: Uint8Array, view: DataView, length: number): unknown {
  const head = bytes[0];
  if (head & OOL) {
    const body = readOutOfLine(decoder.decode(bytes.subarray(1, length)));
    return decodeBody(head & ~OOL, body, new DataView(body.buffer), -1, body.length);
  }
  return decodeBody(head, bytes, view, 0, length);
}

/**
 * The body of the message `bytes[0..length)` as bytes, undecoded (read out of line if it is):
 * what `recvBytes` gives for a message of any kind. Always a fresh array.
 */
export function messageBody(bytes: Uint8Array, length: number): Uint8Array {
  return bytes[0] & OOL
    ? readOutOfLine(decoder.decode(bytes.subarray(1, length)))
    : bytes.slice(1, length); // a message sent as an object: its encoding, opaque here
}

/** The body out of line in segment `name`, copied; the segment is unlinked and forgotten. */
function readOutOfLine(name: string): Uint8Array {
  const lib = native();
  const mapping = lib.attachNamed(`/${name}`);
  try {
    return new Uint8Array(mapping.buffer, 0, mapping.size).slice();
  } finally {
    lib.unmap(mapping.address, mapping.size);
    lib.unlinkNamed(`/${name}`);
    untrack(name);
  }
}

/** Decodes a body that starts at `bytes[at + 1]` (`at` is where the kind byte is or would be). */
function decodeBody(head: number, bytes: Uint8Array, view: DataView, at: number, end: number) {
  if (head & RAW) return bytes.slice(at + 1, end);
  const t = at + 1;
  switch (bytes[t]) {
    case NUMBER:
      return view.getFloat64(t + 1, true);
    case STRING:
      return decoder.decode(bytes.subarray(t + 1, end));
    case NULL:
      return null;
    case UNDEFINED:
      return undefined;
    case TRUE:
      return true;
    case FALSE:
      return false;
    case BIGINT:
      return BigInt(decoder.decode(bytes.subarray(t + 1, end)));
  }
  return fromBytes(bytes.subarray(t + 1, end));
}
