/**
 * Message bodies: primitives in a few bytes of their own (V8's serializer costs microseconds
 * even for a number), everything else through structured serialization.
 * @module
 */
import { fromBytes, toBytes } from "../runtime/serialize.ts";

const CLONE = 0, NUMBER = 1, STRING = 2, NULL = 3, UNDEFINED = 4, TRUE = 5, FALSE = 6, BIGINT = 7;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes `value` (already stripped of shared objects) into bytes. */
export function encodeBody(value: unknown): Uint8Array {
  switch (typeof value) {
    case "number": {
      const out = new Uint8Array(9);
      out[0] = NUMBER;
      new DataView(out.buffer).setFloat64(1, value, true);
      return out;
    }
    case "string": {
      const out = new Uint8Array(1 + value.length * 3);
      out[0] = STRING;
      const { written } = encoder.encodeInto(value, out.subarray(1));
      return out.subarray(0, 1 + written);
    }
    case "boolean":
      return new Uint8Array([value ? TRUE : FALSE]);
    case "undefined":
      return new Uint8Array([UNDEFINED]);
    case "bigint": {
      const s = encoder.encode(value.toString());
      const out = new Uint8Array(1 + s.length);
      out[0] = BIGINT;
      out.set(s, 1);
      return out;
    }
  }
  if (value === null) return new Uint8Array([NULL]);
  const body = toBytes(value);
  const out = new Uint8Array(1 + body.length);
  out[0] = CLONE;
  out.set(body, 1);
  return out;
}

/** Decodes what `encodeBody` made. */
export function decodeBody(bytes: Uint8Array): unknown {
  switch (bytes[0]) {
    case NUMBER:
      return new DataView(bytes.buffer, bytes.byteOffset + 1, 8).getFloat64(0, true);
    case STRING:
      return decoder.decode(bytes.subarray(1));
    case NULL:
      return null;
    case UNDEFINED:
      return undefined;
    case TRUE:
      return true;
    case FALSE:
      return false;
    case BIGINT:
      return BigInt(decoder.decode(bytes.subarray(1)));
  }
  return fromBytes(bytes.subarray(1));
}
