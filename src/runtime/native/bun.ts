/**
 * libc on Bun, through `bun:ffi`.
 * @module
 */
// @ts-ignore: bun:ffi exists only on Bun; this module is loaded only there.
import { dlopen, toArrayBuffer } from "bun:ffi";
import { posixNative } from "./posix.ts";
import { check, MAP_SHARED, type Native, PROT_READ_WRITE, SYS_FUTEX } from "./types.ts";

function bind() {
  const { symbols: c } = dlopen("libc.so.6", {
    memfd_create: { args: ["cstring", "u32"], returns: "i32" },
    open: { args: ["cstring", "i32", "u32"], returns: "i32" },
    shm_open: { args: ["cstring", "i32", "u32"], returns: "i32" },
    shm_unlink: { args: ["cstring"], returns: "i32" },
    ftruncate: { args: ["i32", "i64"], returns: "i32" },
    lseek: { args: ["i32", "i64", "i32"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    mmap: { args: ["u64", "u64", "i32", "i32", "i32", "i64"], returns: "u64" },
    munmap: { args: ["u64", "u64"], returns: "i32" },
    syscall: { args: ["i64", "u64", "i32", "i32", "ptr", "u64", "i32"], returns: "i64" },
  }) as unknown as { symbols: Record<string, (...a: unknown[]) => number | bigint> };
  const cstr = (s: string) => new TextEncoder().encode(s + "\0");
  return {
    memfdCreate: (name: string, flags: number) => Number(c.memfd_create(cstr(name), flags)),
    open: (path: string, flags: number, mode: number) => Number(c.open(cstr(path), flags, mode)),
    shmOpen: (name: string, flags: number, mode: number) =>
      Number(c.shm_open(cstr(name), flags, mode)),
    shmUnlink: (name: string) => Number(c.shm_unlink(cstr(name))),
    ftruncate: (fd: number, size: number) => Number(c.ftruncate(fd, size)),
    lseek: (fd: number, offset: number, whence: number) => Number(c.lseek(fd, offset, whence)),
    close: (fd: number) => Number(c.close(fd)),
    mapShared(fd: number, size: number) {
      const address = BigInt(c.mmap(0, size, PROT_READ_WRITE, MAP_SHARED, fd, 0));
      check(address, "mmap");
      return { address, buffer: toArrayBuffer(Number(address), 0, size) as ArrayBuffer };
    },
    munmap: (address: bigint, size: number) => Number(c.munmap(address, size)),
    futex: (address: bigint, op: number, value: number, timeout: BigInt64Array | null) =>
      Number(c.syscall(SYS_FUTEX, address, op, value, timeout, 0, 0)),
  };
}

/** libc through bun:ffi, opened on first use. */
export const native: Native = posixNative(bind);
