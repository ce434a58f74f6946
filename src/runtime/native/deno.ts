/**
 * libc on Deno, through `Deno.dlopen` (needs `--allow-ffi`).
 * @module
 */
import { deno, type DenoPointer } from "../globals.ts";
import { posixNative } from "./posix.ts";
import { check, MAP_SHARED, type Native, PROT_READ_WRITE, SYS_FUTEX } from "./types.ts";

function bind() {
  const D = deno();
  let lib: ReturnType<typeof D.dlopen>;
  try {
    lib = D.dlopen("libc.so.6", {
      memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
      open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
      shm_open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
      shm_unlink: { parameters: ["buffer"], result: "i32" },
      ftruncate: { parameters: ["i32", "i64"], result: "i32" },
      lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
      close: { parameters: ["i32"], result: "i32" },
      mmap: { parameters: ["u64", "u64", "i32", "i32", "i32", "i64"], result: "pointer" },
      munmap: { parameters: ["u64", "u64"], result: "i32" },
      syscall: {
        parameters: ["i64", "u64", "i32", "i32", "buffer", "u64", "i32"],
        result: "i64",
      },
    });
  } catch (error) {
    // --allow-ffi was checked before this module loaded (mod.ts): libc itself failed to open.
    throw new Error(`multiproc: cannot open libc.so.6 through Deno.dlopen: ${error}`, {
      cause: error,
    });
  }
  const c = lib.symbols as Record<string, (...a: unknown[]) => number | bigint | DenoPointer>;
  const n = (v: unknown) => Number(v as number | bigint);
  const cstr = (s: string) => new TextEncoder().encode(s + "\0");
  return {
    memfdCreate: (name: string, flags: number) => n(c.memfd_create(cstr(name), flags)),
    open: (path: string, flags: number, mode: number) => n(c.open(cstr(path), flags, mode)),
    shmOpen: (name: string, flags: number, mode: number) => n(c.shm_open(cstr(name), flags, mode)),
    shmUnlink: (name: string) => n(c.shm_unlink(cstr(name))),
    ftruncate: (fd: number, size: number) => n(c.ftruncate(fd, BigInt(size))),
    lseek: (fd: number, offset: number, whence: number) => n(c.lseek(fd, BigInt(offset), whence)),
    close: (fd: number) => n(c.close(fd)),
    mapShared(fd: number, size: number) {
      const ptr = c.mmap(0n, BigInt(size), PROT_READ_WRITE, MAP_SHARED, fd, 0n) as DenoPointer;
      const address = D.UnsafePointer.value(ptr);
      check(address, "mmap");
      return { address, buffer: D.UnsafePointerView.getArrayBuffer(ptr, size) };
    },
    munmap: (address: bigint, size: number) => n(c.munmap(address, BigInt(size))),
    futex: (address: bigint, op: number, value: number, timeout: BigInt64Array | null) =>
      n(c.syscall(BigInt(SYS_FUTEX), address, op, value, timeout, 0n, 0)),
  };
}

/** libc through Deno.dlopen, opened on first use. */
export const native: Native = posixNative(bind);
