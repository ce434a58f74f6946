/**
 * Structured serialization to bytes, for messages through shared memory and pipes: V8's format
 * on Deno and Node, JavaScriptCore's on Bun. Every process of one context runs the same runtime,
 * so both ends agree. Loaded on first use, without a `node:` import on Deno: there `node:v8`
 * costs a child ~6-10 ms of Node-compatibility start-up, while Deno's own serializer (the one
 * its `postMessage` uses, reached through `Deno[Deno.internal].core`) is already loaded. A Deno
 * that lacks it, or whose one fails a round trip, gets `node:v8`.
 * @module
 */
import { runtime } from "./detect.ts";
import { denoCore } from "./globals.ts";
import { builtin } from "./host.ts";

interface Serializer {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

let codec: Serializer | undefined;
const serializer = () => (codec ??= denoSerializer() ?? builtin<Serializer>("node:v8"));

function denoSerializer(): Serializer | null {
  if (runtime !== "deno") return null;
  try {
    const core = denoCore<Serializer>(["serialize", "deserialize"]);
    if (!core) return null;
    // A round trip of a bigint, a nested array and a typed array (whose buffer the serializer
    // writes apart), not of every kind of value a message may hold: each kind serialized touches
    // more of V8's code, and a child runs this probe before its first message. A Date and a Map
    // here cost every Deno "process" child ~0.4 MB of resident memory (bench/fixtures/rss.mjs);
    // they are V8's own types, which its serializer handles wherever it handles the rest.
    const probe = { n: 1n, a: [2], b: new Uint8Array([3]) };
    const back = core.deserialize(core.serialize(probe)) as typeof probe;
    const ok = back.n === 1n && back.a[0] === 2 && back.b[0] === 3;
    return ok ? core : null;
  } catch {
    return null;
  }
}

/** The bytes of `value` (what structured clone accepts). */
export function toBytes(value: unknown): Uint8Array {
  return serializer().serialize(value);
}

/**
 * The value back from `toBytes`' bytes. Node's deserializer makes typed arrays views of the
 * bytes it is given, which are often a reused buffer: there it reads a copy.
 */
export function fromBytes(bytes: Uint8Array): unknown {
  return serializer().deserialize(runtime === "node" ? bytes.slice() : bytes);
}
