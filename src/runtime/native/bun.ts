/**
 * libc on Bun, through `bun:ffi`.
 * @module
 */
import type { Libc } from "./posix.ts";
import {
  type Backend,
  libcUnavailable,
  MAP_FAILED,
  MAP_SHARED,
  MAP_ZEROS_IN_PLACE,
  PROT_READ_WRITE,
} from "./types.ts";

/** What is used of `bun:ffi`. */
interface BunFfi {
  dlopen(path: string, symbols: Record<string, unknown>): { symbols: unknown };
  read: { i32(ptr: unknown, offset: number): number };
  toArrayBuffer(address: number, offset: number, length: number): ArrayBuffer;
}

/**
 * Opens `backend`'s libc and binds the calls; throws the platform error if it does not open.
 * `bun:ffi` is required here, at the first use, not imported: this module is imported on every
 * runtime (no top-level await picks it), and a Bun child that shares no memory never loads it.
 */
export function bind(backend: Backend): Libc {
  const { dlopen, read, toArrayBuffer } = (import.meta as unknown as {
    require(id: string): BunFfi;
  }).require("bun:ffi");
  let c: Record<string, (...a: unknown[]) => number | bigint>;
  try {
    c = (dlopen(backend.host.libc, {
      memfd_create: { args: ["cstring", "u32"], returns: "i32" },
      open: { args: ["cstring", "i32", "u32"], returns: "i32" },
      shm_open: { args: ["cstring", "i32", "u32"], returns: "i32" },
      shm_unlink: { args: ["cstring"], returns: "i32" },
      ftruncate: { args: ["i32", "i64"], returns: "i32" },
      fallocate: { args: ["i32", "i32", "i64", "i64"], returns: "i32" },
      lseek: { args: ["i32", "i64", "i32"], returns: "i64" },
      close: { args: ["i32"], returns: "i32" },
      mmap: { args: ["u64", "u64", "i32", "i32", "i32", "i64"], returns: "u64" },
      munmap: { args: ["u64", "u64"], returns: "i32" },
      syscall: { args: ["i64", "u64", "i32", "i32", "ptr", "u64", "i32"], returns: "i64" },
      __errno_location: { args: [], returns: "ptr" },
      sched_yield: { args: [], returns: "i32" },
    }) as { symbols: typeof c }).symbols;
  } catch (error) {
    throw libcUnavailable(backend.host, error);
  }
  const cstr = (s: string) => new TextEncoder().encode(s + "\0");
  const r = read;
  const sysFutex = backend.sysFutex;
  let errnoAt: unknown;
  return {
    memfdCreate: (name, flags) => Number(c.memfd_create(cstr(name), flags)),
    open: (path, flags, mode) => Number(c.open(cstr(path), flags, mode)),
    shmOpen: (name, flags, mode) => Number(c.shm_open(cstr(name), flags, mode)),
    shmUnlink: (name) => Number(c.shm_unlink(cstr(name))),
    ftruncate: (fd, size) => Number(c.ftruncate(fd, size)),
    fallocate: (fd, size) => Number(c.fallocate(fd, 0, 0, size)),
    lseek: (fd, offset, whence) => Number(c.lseek(fd, offset, whence)),
    close: (fd) => Number(c.close(fd)),
    mapShared(fd, size) {
      const address = BigInt(c.mmap(0, size, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      if (address === MAP_FAILED) return null;
      try {
        return { address, buffer: toArrayBuffer(Number(address), 0, size) };
      } catch (error) {
        c.munmap(address, size); // too large to view ("Out of memory"): not left mapped
        throw error;
      }
    },
    mapZerosAt(address, size) {
      return BigInt(c.mmap(address, size, PROT_READ_WRITE, MAP_ZEROS_IN_PLACE, -1, 0)) === address;
    },
    munmap: (address, size) => Number(c.munmap(address, size)),
    futex: (address, op, value, timeout) =>
      Number(c.syscall(sysFutex, address, op, value, timeout, 0, 0)),
    schedYield: () => Number(c.sched_yield()),
    // This thread's errno lives at one address for the thread's life (each worker binds anew).
    errno: () => r.i32(errnoAt ??= c.__errno_location(), 0),
  };
}
