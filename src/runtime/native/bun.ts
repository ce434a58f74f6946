/**
 * Native shared memory on Bun, through `bun:ffi`.
 * @module
 */
// @ts-ignore: bun:ffi exists only on Bun; this module is loaded only there.
import { dlopen, toArrayBuffer } from "bun:ffi";
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

function map(fd: number, size: number): Mapping {
  const address = BigInt(c.mmap(0, size, PROT_READ_WRITE, MAP_SHARED, fd, 0));
  check(address, "mmap");
  return { address, buffer: toArrayBuffer(Number(address), 0, size) as ArrayBuffer };
}

/** libc through bun:ffi. */
export const native: Native = {
  createAnonymous(size) {
    const fd = Number(c.memfd_create(cstr("multiproc"), MFD_CLOEXEC));
    check(fd, "memfd_create");
    check(c.ftruncate(fd, size), "ftruncate");
    return { fd, ...map(fd, size) };
  },
  attachAnonymous(pid, fd, size) {
    const own = Number(c.open(cstr(`/proc/${pid}/fd/${fd}`), O_RDWR, 0));
    check(own, `attaching shared memory of process ${pid}`, "is that process still running?");
    try {
      return map(own, size);
    } finally {
      c.close(own);
    }
  },
  createNamed(name, size) {
    const fd = Number(c.shm_open(cstr(name), O_RDWR | O_CREAT | O_EXCL, 0o600));
    check(fd, `shm_open('${name}')`, "a segment of that name may exist already");
    try {
      check(c.ftruncate(fd, size), "ftruncate");
      return map(fd, size);
    } finally {
      c.close(fd);
    }
  },
  attachNamed(name) {
    const fd = Number(c.shm_open(cstr(name), O_RDWR, 0));
    check(fd, `shm_open('${name}')`, "no segment of that name exists");
    try {
      const size = Number(c.lseek(fd, 0, SEEK_END));
      return { size, ...map(fd, size) };
    } finally {
      c.close(fd);
    }
  },
  unlinkNamed(name) {
    check(c.shm_unlink(cstr(name)), `shm_unlink('${name}')`, "no segment of that name exists");
  },
  unmap(address, size) {
    c.munmap(address, size);
  },
  futexWait(address, expected, timeoutMs) {
    c.syscall(SYS_FUTEX, address, FUTEX_WAIT, expected, timespec(timeoutMs), 0, 0);
  },
  futexWake(address, count) {
    return Number(c.syscall(SYS_FUTEX, address, FUTEX_WAKE, count, null, 0, 0));
  },
};
