/**
 * libc on Node, through koffi (Node has no built-in FFI).
 * @module
 */
import type * as Koffi from "koffi";
import { createRequire } from "node:module";
import { posixNative } from "./posix.ts";
import { check, MAP_SHARED, type Native, PROT_READ_WRITE, SYS_FUTEX } from "./types.ts";

/** Loads koffi (~10–25 ms: not every program needs it) and binds libc. */
function bind() {
  let koffi: typeof Koffi;
  let lib: Koffi.LibraryHandle;
  try {
    koffi = createRequire(import.meta.url)("koffi") as typeof Koffi;
    lib = koffi.load("libc.so.6");
  } catch (error) {
    throw new Error(
      `multiproc: shared memory between processes on Node needs the koffi package (Node has no `
        + `built-in FFI), and it could not load: ${error}. Reinstall multiproc's dependencies `
        + `(npm ci), or use the "thread" start method.`,
      { cause: error },
    );
  }
  const c = {
    memfd_create: lib.func("int memfd_create(const char *name, unsigned int flags)"),
    open: lib.func("int open(const char *path, int flags, unsigned int mode)"),
    shm_open: lib.func("int shm_open(const char *name, int flags, unsigned int mode)"),
    shm_unlink: lib.func("int shm_unlink(const char *name)"),
    ftruncate: lib.func("int ftruncate(int fd, int64_t len)"),
    lseek: lib.func("int64_t lseek(int fd, int64_t off, int whence)"),
    close: lib.func("int close(int fd)"),
    mmap: lib.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)"),
    munmap: lib.func("int munmap(uint64_t addr, size_t len)"),
    syscall: lib.func(
      "long syscall(long n, uint64_t addr, int op, int val, void *ts, uint64_t addr2, int val3)",
    ),
  };
  return {
    memfdCreate: (name: string, flags: number) => Number(c.memfd_create(name, flags)),
    open: (path: string, flags: number, mode: number) => Number(c.open(path, flags, mode)),
    shmOpen: (name: string, flags: number, mode: number) => Number(c.shm_open(name, flags, mode)),
    shmUnlink: (name: string) => Number(c.shm_unlink(name)),
    ftruncate: (fd: number, size: number) => Number(c.ftruncate(fd, size)),
    lseek: (fd: number, offset: number, whence: number) => Number(c.lseek(fd, offset, whence)),
    close: (fd: number) => Number(c.close(fd)),
    mapShared(fd: number, size: number) {
      const ptr = c.mmap(null, size, PROT_READ_WRITE, MAP_SHARED, fd, 0);
      const address = BigInt(koffi.address(ptr));
      check(address, "mmap");
      return { address, buffer: koffi.view(ptr, size) as ArrayBuffer };
    },
    munmap: (address: bigint, size: number) => Number(c.munmap(address, size)),
    futex: (address: bigint, op: number, value: number, timeout: BigInt64Array | null) =>
      Number(c.syscall(SYS_FUTEX, address, op, value, timeout, 0, 0)),
  };
}

/** libc through koffi, loaded on first use. */
export const native: Native = posixNative(bind);
