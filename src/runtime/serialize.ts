/**
 * Structured serialization to bytes, for messages through shared memory and pipes: V8's format
 * on Deno and Node, JavaScriptCore's on Bun. Every process of one context runs the same runtime,
 * so both ends agree. Loaded on first use, without a `node:` import on Deno: there `node:v8`
 * costs a child ~6–10 ms of Node-compatibility start-up, while Deno's own serializer (the one
 * its `postMessage` uses, reached through `Deno[Deno.internal].core`) is already loaded. A Deno
 * that lacks it, or whose one fails a round trip, gets `node:v8`.
 * @module
 */
import { runtime } from "./detect.ts";
import { builtin } from "./host.ts";

interface Serializer {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

let codec: Serializer | undefined;
const serializer = () => (codec ??= denoCore() ?? builtin<Serializer>("node:v8"));

function denoCore(): Serializer | null {
  if (runtime !== "deno") return null;
  try {
    const d = (globalThis as unknown as { Deno: Record<symbol, { core?: Serializer }> }).Deno;
    const internal = (d as unknown as { internal?: symbol }).internal;
    const core = internal ? d[internal]?.core : undefined;
    if (!core) return null;
    const probe = { n: 1n, d: new Date(0), m: new Map([[1, [2]]]), b: new Uint8Array([3]) };
    const back = core.deserialize(core.serialize(probe)) as typeof probe;
    const ok = back.n === 1n && back.d.getTime() === 0 && back.m.get(1)?.[0] === 2
      && back.b[0] === 3;
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
