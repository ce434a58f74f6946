/**
 * libc on Deno, through `Deno.dlopen` (needs `--allow-ffi`).
 * @module
 */
import { deno, type DenoPointer } from "../globals.ts";
import type { Libc } from "./posix.ts";
import {
  type Backend,
  libcUnavailable,
  MAP_FAILED,
  MAP_SHARED,
  MAP_ZEROS_IN_PLACE,
  PROT_READ_WRITE,
} from "./types.ts";

/** Opens `backend`'s libc and binds the calls; throws the platform error if it does not open. */
export function bind(backend: Backend): Libc {
  const D = deno();
  let lib: ReturnType<typeof D.dlopen>;
  try {
    lib = D.dlopen(backend.host.libc, {
      memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
      open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
      shm_open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
      shm_unlink: { parameters: ["buffer"], result: "i32" },
      ftruncate: { parameters: ["i32", "i64"], result: "i32" },
      fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
      lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
      close: { parameters: ["i32"], result: "i32" },
      mmap: { parameters: ["u64", "u64", "i32", "i32", "i32", "i64"], result: "pointer" },
      // mmap again, answering a number: where zero pages replace a mapping.
      mmap_at: {
        name: "mmap",
        parameters: ["u64", "u64", "i32", "i32", "i32", "i64"],
        result: "u64",
      },
      munmap: { parameters: ["u64", "u64"], result: "i32" },
      syscall: {
        parameters: ["i64", "u64", "i32", "i32", "buffer", "u64", "i32"],
        result: "i64",
      },
      __errno_location: { parameters: [], result: "pointer" },
      sched_yield: { parameters: [], result: "i32" },
    });
  } catch (error) {
    // --allow-ffi was checked before this module loaded (mod.ts): libc itself failed to open.
    throw libcUnavailable(backend.host, error);
  }
  const c = lib.symbols as Record<string, (...a: unknown[]) => number | bigint | DenoPointer>;
  const n = (v: unknown) => Number(v as number | bigint);
  const cstr = (s: string) => new TextEncoder().encode(s + "\0");
  const sysFutex = BigInt(backend.sysFutex);
  let errnoCell: Int32Array | undefined;
  return {
    memfdCreate: (name, flags) => n(c.memfd_create(cstr(name), flags)),
    open: (path, flags, mode) => n(c.open(cstr(path), flags, mode)),
    shmOpen: (name, flags, mode) => n(c.shm_open(cstr(name), flags, mode)),
    shmUnlink: (name) => n(c.shm_unlink(cstr(name))),
    ftruncate: (fd, size) => n(c.ftruncate(fd, BigInt(size))),
    fallocate: (fd, size) => n(c.fallocate(fd, 0, 0n, BigInt(size))),
    lseek: (fd, offset, whence) => n(c.lseek(fd, BigInt(offset), whence)),
    close: (fd) => n(c.close(fd)),
    mapShared(fd, size) {
      const ptr = c.mmap(0n, BigInt(size), PROT_READ_WRITE, MAP_SHARED, fd, 0n) as DenoPointer;
      const address = D.UnsafePointer.value(ptr);
      if (BigInt(address) === MAP_FAILED) return null;
      try {
        return { address, buffer: D.UnsafePointerView.getArrayBuffer(ptr, size) };
      } catch (error) {
        c.munmap(address, BigInt(size)); // too large to view: not left mapped
        throw error;
      }
    },
    mapZerosAt(address, size) {
      const at = c.mmap_at(address, BigInt(size), PROT_READ_WRITE, MAP_ZEROS_IN_PLACE, -1, 0n);
      return BigInt(at as number | bigint) === address;
    },
    munmap: (address, size) => n(c.munmap(address, BigInt(size))),
    futex: (address, op, value, timeout) =>
      n(c.syscall(sysFutex, address, op, value, timeout, 0n, 0)),
    schedYield: () => n(c.sched_yield()),
    // This thread's errno lives at one address for the thread's life (each worker binds anew).
    errno: () =>
      (errnoCell ??= new Int32Array(
        D.UnsafePointerView.getArrayBuffer(c.__errno_location() as DenoPointer, 4),
      ))[0],
  };
}
