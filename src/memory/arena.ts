/**
 * Where shared objects live. `"thread"`: slabs of `SharedArrayBuffer`. `"process"`: slabs of
 * anonymous memfd segments that children map through `/proc/<pid>/fd/<fd>`: nothing is ever
 * created in /dev/shm, and the kernel frees a slab when the last process using it exits, even
 * after SIGKILL. Blocks are bump-allocated and live as long as their slab.
 * @module
 */
import type { StartMethod } from "../core/start_method.ts";
import { pid } from "../runtime/host.ts";
import { type Mapping, native } from "../runtime/native/mod.ts";

/** A structured-cloneable reference to a block, for handles. */
export type BlockRef =
  | { kind: "sab"; sab: SharedArrayBuffer; offset: number; size: number }
  | { kind: "memfd"; pid: number; fd: number; slab: number; offset: number; size: number };

/** Shared bytes: `size` bytes at `offset` of `buffer`. */
export interface Block {
  readonly buffer: ArrayBufferLike;
  readonly offset: number;
  readonly size: number;
  /** The buffer's base address when it is native memory (futex waits need it). */
  readonly address: bigint | null;
  readonly method: StartMethod;
  readonly ref: BlockRef;
}

const SLAB = 64 * 1024;

interface Slab {
  buffer: ArrayBufferLike;
  address: bigint | null;
  size: number;
  used: number;
  ref: (offset: number, size: number) => BlockRef;
}

const current: Partial<Record<StartMethod, Slab>> = {};
const attached = new Map<string, Mapping>();

function newSlab(method: StartMethod, size: number): Slab {
  if (method === "thread") {
    const sab = new SharedArrayBuffer(size);
    return {
      buffer: sab,
      address: null,
      size,
      used: 0,
      ref: (offset, n) => ({ kind: "sab", sab, offset, size: n }),
    };
  }
  const m = native().createAnonymous(size);
  attached.set(`${pid}:${m.fd}`, m);
  return {
    buffer: m.buffer,
    address: m.address,
    size,
    used: 0,
    ref: (offset, n) => ({ kind: "memfd", pid, fd: m.fd, slab: size, offset, size: n }),
  };
}

/** Allocates `size` zeroed bytes, aligned to `align`, for objects of start method `method`. */
export function allocate(method: StartMethod, size: number, align = 8): Block {
  let slab = current[method];
  let offset = slab ? Math.ceil(slab.used / align) * align : 0;
  if (!slab || offset + size > slab.size) {
    slab = newSlab(method, Math.max(SLAB, Math.ceil(size / 4096) * 4096));
    if (size < SLAB) current[method] = slab;
    offset = 0;
  }
  slab.used = offset + size;
  return {
    buffer: slab.buffer,
    offset,
    size,
    address: slab.address,
    method,
    ref: slab.ref(offset, size),
  };
}

/** The block a handle refers to, mapped into this process if need be. */
export function attach(ref: BlockRef): Block {
  if (ref.kind === "sab") {
    return {
      buffer: ref.sab,
      offset: ref.offset,
      size: ref.size,
      address: null,
      method: "thread",
      ref,
    };
  }
  const key = `${ref.pid}:${ref.fd}`;
  let m = attached.get(key);
  if (!m) attached.set(key, m = native().attachAnonymous(ref.pid, ref.fd, ref.slab));
  return {
    buffer: m.buffer,
    offset: ref.offset,
    size: ref.size,
    address: m.address,
    method: "process",
    ref,
  };
}
