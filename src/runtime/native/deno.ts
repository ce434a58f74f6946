/**
 * Native shared memory on Deno, through `Deno.dlopen` (needs `--allow-ffi`).
 * @module
 */
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

type Ptr = object | null;
interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...a: unknown[]) => unknown> };
  UnsafePointer: { value(p: Ptr): bigint; create(v: bigint): Ptr };
  UnsafePointerView: { getArrayBuffer(p: Ptr, len: number): ArrayBuffer };
}

const D = (globalThis as unknown as { Deno: DenoFfi }).Deno;
let lib: ReturnType<DenoFfi["dlopen"]>;
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
    syscall: { parameters: ["i64", "u64", "i32", "i32", "buffer", "u64", "i32"], result: "i64" },
  });
} catch (error) {
  throw new Error(
    `multiproc: shared memory between processes needs FFI on Deno: run with --allow-ffi `
      + `(or -A), or use the "thread" start method.`,
    { cause: error },
  );
}
const c = lib.symbols as Record<string, (...a: unknown[]) => number | bigint | Ptr>;
const num = (v: unknown) => Number(v as number | bigint);
const cstr = (s: string) => new TextEncoder().encode(s + "\0");

function map(fd: number, size: number): Mapping {
  const ptr = c.mmap(0n, BigInt(size), PROT_READ_WRITE, MAP_SHARED, fd, 0n) as Ptr;
  const address = D.UnsafePointer.value(ptr);
  check(address, "mmap");
  return { address, buffer: D.UnsafePointerView.getArrayBuffer(ptr, size) };
}

/** libc through Deno.dlopen. */
export const native: Native = {
  createAnonymous(size) {
    const fd = num(c.memfd_create(cstr("multiproc"), MFD_CLOEXEC));
    check(fd, "memfd_create");
    check(num(c.ftruncate(fd, BigInt(size))), "ftruncate");
    return { fd, ...map(fd, size) };
  },
  attachAnonymous(pid, fd, size) {
    const own = num(c.open(cstr(`/proc/${pid}/fd/${fd}`), O_RDWR, 0));
    check(own, `attaching shared memory of process ${pid}`, "is that process still running?");
    try {
      return map(own, size);
    } finally {
      c.close(own);
    }
  },
  createNamed(name, size) {
    const fd = num(c.shm_open(cstr(name), O_RDWR | O_CREAT | O_EXCL, 0o600));
    check(fd, `shm_open('${name}')`, "a segment of that name may exist already");
    try {
      check(num(c.ftruncate(fd, BigInt(size))), "ftruncate");
      return map(fd, size);
    } finally {
      c.close(fd);
    }
  },
  attachNamed(name) {
    const fd = num(c.shm_open(cstr(name), O_RDWR, 0));
    check(fd, `shm_open('${name}')`, "no segment of that name exists");
    try {
      const size = num(c.lseek(fd, 0n, SEEK_END));
      return { size, ...map(fd, size) };
    } finally {
      c.close(fd);
    }
  },
  unlinkNamed(name) {
    check(num(c.shm_unlink(cstr(name))), `shm_unlink('${name}')`, "no such segment");
  },
  unmap(address, size) {
    c.munmap(address, BigInt(size));
  },
  futexWait(address, expected, timeoutMs) {
    c.syscall(BigInt(SYS_FUTEX), address, FUTEX_WAIT, expected, timespec(timeoutMs), 0n, 0);
  },
  futexWake(address, count) {
    return num(c.syscall(BigInt(SYS_FUTEX), address, FUTEX_WAKE, count, null, 0n, 0));
  },
};
