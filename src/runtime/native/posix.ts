/**
 * The shared-memory operations, written once over the few libc calls they need; each runtime's
 * module (bun.ts, deno.ts, node.ts) only binds those calls through its own FFI.
 * @module
 */
import {
  check,
  FUTEX_WAIT,
  FUTEX_WAKE,
  type Mapping,
  MFD_CLOEXEC,
  type Native,
  O_CREAT,
  O_EXCL,
  O_RDWR,
  SEEK_END,
  timespec,
} from "./types.ts";

/** The libc calls behind `Native`, as one runtime's FFI binds them (results as numbers). */
export interface Libc {
  memfdCreate(name: string, flags: number): number;
  open(path: string, flags: number, mode: number): number;
  shmOpen(name: string, flags: number, mode: number): number;
  shmUnlink(name: string): number;
  ftruncate(fd: number, size: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  close(fd: number): number;
  /** `mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`, checked, as a `Mapping`. */
  mapShared(fd: number, size: number): Mapping;
  munmap(address: bigint, size: number): number;
  /** `syscall(SYS_futex, address, op, value, timeout, 0, 0)`. */
  futex(address: bigint, op: number, value: number, timeout: BigInt64Array | null): number;
}

/**
 * `Native` over the libc calls `bind()` returns, bound on first use: a program that makes no
 * shared object between processes never opens libc (nor, on Node, loads koffi).
 */
export function posixNative(bind: () => Libc): Native {
  let bound: Libc | undefined;
  const c = () => (bound ??= bind());
  const closing = <T>(fd: number, use: () => T): T => {
    try {
      return use();
    } finally {
      c().close(fd);
    }
  };
  return {
    createAnonymous(size) {
      const fd = c().memfdCreate("multiproc", MFD_CLOEXEC);
      check(fd, "memfd_create");
      check(c().ftruncate(fd, size), "ftruncate");
      return { fd, ...c().mapShared(fd, size) };
    },
    attachAnonymous(pid, fd, size) {
      const own = c().open(`/proc/${pid}/fd/${fd}`, O_RDWR, 0);
      check(own, `attaching shared memory of process ${pid}`, "is that process still running?");
      return closing(own, () => c().mapShared(own, size));
    },
    createNamed(name, size) {
      const fd = c().shmOpen(name, O_RDWR | O_CREAT | O_EXCL, 0o600);
      check(fd, `shm_open('${name}')`, "a segment of that name may exist already");
      return closing(fd, () => {
        check(c().ftruncate(fd, size), "ftruncate");
        return c().mapShared(fd, size);
      });
    },
    attachNamed(name) {
      const fd = c().shmOpen(name, O_RDWR, 0);
      check(fd, `shm_open('${name}')`, "no segment of that name exists");
      return closing(fd, () => {
        const size = c().lseek(fd, 0, SEEK_END);
        return { size, ...c().mapShared(fd, size) };
      });
    },
    unlinkNamed(name) {
      check(c().shmUnlink(name), `shm_unlink('${name}')`, "no segment of that name exists");
    },
    unmap(address, size) {
      c().munmap(address, size);
    },
    futexWait(address, expected, timeoutMs) {
      c().futex(address, FUTEX_WAIT, expected, timespec(timeoutMs));
    },
    futexWake(address, count) {
      return c().futex(address, FUTEX_WAKE, count, null);
    },
  };
}
