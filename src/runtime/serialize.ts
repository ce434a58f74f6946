/**
 * Structured serialization to bytes, for messages through shared memory (V8's format on Deno
 * and Node, JavaScriptCore's through Bun's `node:v8`): every process of one context runs the
 * same runtime, so both ends agree.
 * @module
 */
import { deserialize, serialize } from "node:v8";

/** The bytes of `value` (what structured clone accepts). */
export function toBytes(value: unknown): Uint8Array {
  return serialize(value);
}

/** The value back from `toBytes`' bytes. */
export function fromBytes(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}
