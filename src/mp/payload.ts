/**
 * What a ring carries per message: a kind byte, then the body, or, for a large body, the name of
 * a shared-memory segment holding it. A large message thus never waits for ring space, and a
 * writer may exit right after `put`: the segment outlives it (the main process's tracker unlinks
 * it if nobody reads it).
 * @module
 */
import { native } from "../runtime/native/mod.ts";
import { track, untrack } from "../shm/tracker.ts";

/** Bodies above this size travel out of line. */
const OUT_OF_LINE = 256 * 1024;
const OOL = 0x80;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function nativeOrNull() {
  try {
    return native();
  } catch {
    return null; // no FFI (Deno without --allow-ffi, "thread"): large bodies stream through the ring
  }
}

/** The ring payload for a body of `kind` (0–127). */
export function pack(kind: number, body: Uint8Array): Uint8Array {
  const lib = body.length > OUT_OF_LINE ? nativeOrNull() : null;
  if (lib) {
    const name = `mp_msg_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const mapping = lib.createNamed(`/${name}`, body.length);
    try {
      track(name);
      new Uint8Array(mapping.buffer, 0, body.length).set(body);
    } finally {
      lib.unmap(mapping.address, body.length);
    }
    const n = encoder.encode(name);
    const out = new Uint8Array(1 + n.length);
    out[0] = kind | OOL;
    out.set(n, 1);
    return out;
  }
  const out = new Uint8Array(body.length + 1);
  out[0] = kind;
  out.set(body, 1);
  return out;
}

/** The kind and body of a ring payload (reading, unlinking and forgetting an out-of-line one). */
export function unpack(payload: Uint8Array): { kind: number; body: Uint8Array } {
  if (!(payload[0] & OOL)) return { kind: payload[0], body: payload.subarray(1) };
  const name = decoder.decode(payload.subarray(1));
  const lib = native();
  const mapping = lib.attachNamed(`/${name}`);
  try {
    return {
      kind: payload[0] & ~OOL,
      body: new Uint8Array(mapping.buffer, 0, mapping.size).slice(),
    };
  } finally {
    lib.unmap(mapping.address, mapping.size);
    lib.unlinkNamed(`/${name}`);
    untrack(name);
  }
}
