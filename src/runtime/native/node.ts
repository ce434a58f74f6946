/**
 * Native shared memory on Node, through koffi (Node has no built-in FFI).
 * @module
 */
import type * as Koffi from "koffi";
import { createRequire } from "node:module";
import {
  check,
  FUTEX_WAIT,
  FUTEX_WAKE,
  MAP_SHARED,
  type Mapping,
  MFD_CLOEXEC,
  type Native,
  O_CREAT,
  O_EXCL,
  O_RDWR,
  PROT_READ_WRITE,
  SEEK_END,
  SYS_FUTEX,
  timespec,
} from "./types.ts";

/** Loads koffi and binds libc on first use (koffi takes ~25 ms to load: not every program needs it). */
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
  return {
    koffi,
    c: {
      memfd_create: lib.func("int memfd_create(const char *name, unsigned int flags)"),
      open: lib.func("int open(const char *path, int flags, unsigned int mode)"),
      shm_open: lib.func("int shm_open(const char *name, int flags, unsigned int mode)"),
      shm_unlink: lib.func("int shm_unlink(const char *name)"),
      ftruncate: lib.func("int ftruncate(int fd, int64_t len)"),
      lseek: lib.func("int64_t lseek(int fd, int64_t off, int whence)"),
      close: lib.func("int close(int fd)"),
      mmap: lib.func(
        "void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)",
      ),
      munmap: lib.func("int munmap(uint64_t addr, size_t len)"),
      syscall: lib.func(
        "long syscall(long n, uint64_t addr, int op, int val, void *ts, uint64_t addr2, int val3)",
      ),
    },
  };
}

let bound: ReturnType<typeof bind> | undefined;
const libc = () => (bound ??= bind()).c;

function map(fd: number, size: number): Mapping {
  const { koffi, c } = bound ??= bind();
  const ptr = c.mmap(null, size, PROT_READ_WRITE, MAP_SHARED, fd, 0);
  const address = BigInt(koffi.address(ptr));
  check(address, "mmap");
  return { address, buffer: koffi.view(ptr, size) as ArrayBuffer };
}

/** libc through koffi. */
export const native: Native = {
  createAnonymous(size) {
    const fd = libc().memfd_create("multiproc", MFD_CLOEXEC) as number;
    check(fd, "memfd_create");
    check(libc().ftruncate(fd, size) as number, "ftruncate");
    return { fd, ...map(fd, size) };
  },
  attachAnonymous(pid, fd, size) {
    const own = libc().open(`/proc/${pid}/fd/${fd}`, O_RDWR, 0) as number;
    check(own, `attaching shared memory of process ${pid}`, "is that process still running?");
    try {
      return map(own, size);
    } finally {
      libc().close(own);
    }
  },
  createNamed(name, size) {
    const fd = libc().shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o600) as number;
    check(fd, `shm_open('${name}')`, "a segment of that name may exist already");
    try {
      check(libc().ftruncate(fd, size) as number, "ftruncate");
      return map(fd, size);
    } finally {
      libc().close(fd);
    }
  },
  attachNamed(name) {
    const fd = libc().shm_open(name, O_RDWR, 0) as number;
    check(fd, `shm_open('${name}')`, "no segment of that name exists");
    try {
      const size = Number(libc().lseek(fd, 0, SEEK_END));
      return { size, ...map(fd, size) };
    } finally {
      libc().close(fd);
    }
  },
  unlinkNamed(name) {
    check(libc().shm_unlink(name) as number, `shm_unlink('${name}')`, "no such segment");
  },
  unmap(address, size) {
    libc().munmap(address, size);
  },
  futexWait(address, expected, timeoutMs) {
    libc().syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, timespec(timeoutMs), 0, 0);
  },
  futexWake(address, count) {
    return Number(libc().syscall(SYS_FUTEX, address, FUTEX_WAKE, count, null, 0, 0));
  },
};
