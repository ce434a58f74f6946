/**
 * Native shared memory and futex waits through each runtime's FFI, behind one interface.
 * @module
 */

/** A mapping of shared memory into this process. */
export interface Mapping {
  /** The mapped bytes (an `ArrayBuffer` over memory other processes see too). */
  readonly buffer: ArrayBuffer;
  /** Address of the first byte, for futex calls. */
  readonly address: bigint;
}

/** What the library needs from libc. */
export interface Native {
  /** A new anonymous segment (memfd): never in /dev/shm, freed when its last user exits. */
  createAnonymous(size: number): Mapping & { fd: number };
  /** Maps segment `fd` of process `pid` (via /proc/pid/fd/fd). */
  attachAnonymous(pid: number, fd: number, size: number): Mapping;
  /** Creates (exclusive) a named POSIX segment, mode 0600. */
  createNamed(name: string, size: number): Mapping;
  /** Maps an existing named POSIX segment; `size` is read from it. */
  attachNamed(name: string): Mapping & { size: number };
  /** Removes a named segment's name (mappings stay valid). */
  unlinkNamed(name: string): void;
  /** Unmaps a mapping. */
  unmap(address: bigint, size: number): void;
  /** FUTEX_WAIT on the int32 at `address` while it equals `expected`, blocking this thread. */
  futexWait(address: bigint, expected: number, timeoutMs?: number): void;
  /** FUTEX_WAKE up to `count` waiters on `address`. */
  futexWake(address: bigint, count: number): number;
}

export const PROT_READ_WRITE = 0x1 | 0x2;
export const MAP_SHARED = 0x01;
export const O_RDWR = 0x2;
export const O_CREAT = 0x40;
export const O_EXCL = 0x80;
export const MFD_CLOEXEC = 0x1;
export const SEEK_END = 2;
export const SYS_FUTEX = 202; // x86_64
export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const MAP_FAILED = (1n << 64n) - 1n;

/** A relative timespec for futex timeouts, or null for none. */
export function timespec(timeoutMs: number | undefined): BigInt64Array | null {
  if (timeoutMs === undefined || timeoutMs === Infinity) return null;
  const ms = Math.max(0, timeoutMs);
  const sec = Math.floor(ms / 1000);
  return new BigInt64Array([BigInt(sec), BigInt(Math.round((ms - sec * 1000) * 1e6))]);
}

/** Throws a clear error for a failed libc call. */
export function check(result: number | bigint, what: string, hint = ""): void {
  if (Number(result) < 0 || BigInt(result) === MAP_FAILED) {
    throw new Error(`multiproc: ${what} failed${hint ? `: ${hint}` : ""}`);
  }
}
