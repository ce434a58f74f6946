/**
 * The shared-memory operations, written once over the few libc calls they need; each runtime's
 * module (bun.ts, deno.ts, node.ts) only binds those calls through its own FFI.
 * @module
 */
import {
  errnoName,
  FUTEX_WAIT,
  FUTEX_WAKE,
  type Mapping,
  MFD_CLOEXEC,
  type Native,
  NativeError,
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
  /** `fallocate(fd, 0, 0, size)`: the segment's pages reserved now, not at first touch. */
  fallocate(fd: number, size: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  close(fd: number): number;
  /** `mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`, or null if it failed. */
  mapShared(fd: number, size: number): Mapping | null;
  munmap(address: bigint, size: number): number;
  /**
   * `mmap(address, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)`:
   * whether it succeeded.
   */
  mapZerosAt(address: bigint, size: number): boolean;
  /** `syscall(SYS_futex, address, op, value, timeout, 0, 0)`, with this architecture's number. */
  futex(address: bigint, op: number, value: number, timeout: BigInt64Array | null): number;
  /** `errno` in this thread, as the last call that failed left it. */
  errno(): number;
  /** `sched_yield()`. */
  schedYield(): number;
  /** The largest mapping the runtime can view as one `ArrayBuffer` (none: no limit to check). */
  readonly maxView?: number;
}

/** What a failure means whatever the call, by errno name. */
const GENERAL: Readonly<Record<string, string>> = {
  EMFILE: "this process has too many open files (each slab of shared objects holds one; "
    + "raise the limit: ulimit -n)",
  ENFILE: "the system has too many open files",
  ENOMEM: "not enough memory",
  ENOSPC: "not enough room for shared memory (is /dev/shm full?)",
  ENOSYS: "the kernel, or a sandbox's seccomp filter, does not provide this call",
};

/** The errors of futex(2) that fail a wait (the others it gives end a wait early). */
const FUTEX_WAIT_FAILURES: ReadonlySet<string> = new Set([
  "EACCES",
  "EFAULT",
  "EINVAL",
  "ENFILE",
  "ENOMEM",
  "ENOSYS",
  "EPERM",
]);

/** A hint per errno name; `other` for any name not listed. */
type Hints = Readonly<Record<string, string>>;

/**
 * `Native` over the libc calls `c` binds. A failed call throws a `NativeError` carrying errno;
 * futex waits that end early (EAGAIN: the word changed; ETIMEDOUT; EINTR; an errno futex does not
 * give) are not failures.
 */
export function posixNative(c: Libc): Native {
  const check = (result: number, what: string, syscall: string, hints: Hints = {}) => {
    if (result >= 0) return;
    const errno = c.errno(); // read at once: the next call may change it
    const code = errnoName(errno);
    throw new NativeError(what, syscall, errno, hints[code] ?? GENERAL[code] ?? hints.other ?? "");
  };
  const map = (fd: number, size: number): Mapping => {
    if (c.maxView !== undefined && size > c.maxView) {
      // Node 20's FFI aborts the whole process when asked for a larger view (4 GiB there).
      throw new RangeError(
        `this runtime views at most ${c.maxView} bytes of memory as one buffer, not ${size}`,
      );
    }
    const m = c.mapShared(fd, size);
    if (m) return m;
    const errno = c.errno();
    throw new NativeError("mmap", "mmap", errno, GENERAL[errnoName(errno)]);
  };
  const closing = <T>(fd: number, use: () => T): T => {
    try {
      return use();
    } finally {
      c.close(fd);
    }
  };
  return {
    createAnonymous(size) {
      const fd = c.memfdCreate("multiproc", MFD_CLOEXEC);
      check(fd, "memfd_create", "memfd_create");
      try {
        check(c.ftruncate(fd, size), "ftruncate", "ftruncate");
        return { fd, ...map(fd, size) };
      } catch (error) {
        c.close(fd);
        throw error;
      }
    },
    attachAnonymous(pid, fd, size) {
      const own = c.open(`/proc/${pid}/fd/${fd}`, O_RDWR, 0);
      check(own, `attaching shared memory of process ${pid}`, "open", {
        EACCES: "that process runs as another user, or /proc hides it (hidepid)",
        EPERM: "that process runs as another user, or /proc hides it (hidepid)",
        ENOENT: "that process has ended, and its shared objects with it; make shared objects in "
          + "the main process and pass them to children, or keep the child running while "
          + "others use what it made",
        other: "is that process still running?",
      });
      return closing(own, () => map(own, size));
    },
    createNamed(name, size) {
      const fd = c.shmOpen(name, O_RDWR | O_CREAT | O_EXCL, 0o600);
      check(fd, `shm_open('${name}')`, "shm_open", {
        EEXIST: "a segment of that name may exist already",
        ENOENT: "is /dev/shm mounted?",
      });
      try {
        return closing(fd, () => {
          check(c.ftruncate(fd, size), "ftruncate", "ftruncate");
          // Its pages taken now: /dev/shm too small for them (Docker gives 64 MB) fails here,
          // not with SIGBUS, which kills the process, at the first write past the room left.
          const reserved = c.fallocate(fd, size);
          if (reserved < 0 && errnoName(c.errno()) !== "EOPNOTSUPP") {
            check(reserved, `reserving ${size} bytes of shared memory for '${name}'`, "fallocate", {
              ENOSPC: "/dev/shm has not that much room left (its size is the limit: df -h "
                + "/dev/shm; in Docker, --shm-size)",
            });
          }
          return map(fd, size);
        });
      } catch (error) {
        c.shmUnlink(name); // made here: nothing left behind
        throw error;
      }
    },
    attachNamed(name) {
      const fd = c.shmOpen(name, O_RDWR, 0);
      check(fd, `shm_open('${name}')`, "shm_open", {
        ENOENT: "no segment of that name exists",
        EACCES: "the segment belongs to another user",
      });
      return closing(fd, () => {
        const size = c.lseek(fd, 0, SEEK_END);
        check(size, "lseek", "lseek");
        return { size, ...map(fd, size) };
      });
    },
    unlinkNamed(name) {
      check(c.shmUnlink(name), `shm_unlink('${name}')`, "shm_unlink", {
        ENOENT: "no segment of that name exists",
      });
    },
    unmap(address, size) {
      c.munmap(address, size);
    },
    release(address, size) {
      if (c.mapZerosAt(address, size)) return;
      const errno = c.errno();
      throw new NativeError(
        "releasing shared memory (mmap)",
        "mmap",
        errno,
        GENERAL[errnoName(errno)],
      );
    },
    closeFd(fd) {
      c.close(fd);
    },
    futexWait(address, expected, timeoutMs) {
      if (c.futex(address, FUTEX_WAIT, expected, timespec(timeoutMs)) >= 0) return;
      const errno = c.errno();
      const code = errnoName(errno);
      // Any errno futex(2) does not give for a wait was left by something else (the runtime,
      // between the call and the read: seen once, ENOENT, under Node 24): an early end, as
      // EAGAIN (the word changed), ETIMEDOUT and EINTR are. Every caller then checks its word.
      if (!FUTEX_WAIT_FAILURES.has(code)) return;
      throw new NativeError("futex wait", "futex", errno, GENERAL[code]);
    },
    futexWake(address, count) {
      const woken = c.futex(address, FUTEX_WAKE, count, null);
      check(woken, "futex wake", "futex");
      return woken;
    },
    yieldCpu() {
      c.schedYield(); // cannot fail on Linux
    },
  };
}
