/**
 * Native shared memory and futex waits through each runtime's FFI, behind one interface; the
 * platforms it exists on; the errors it throws.
 * @module
 */

/** A mapping of shared memory into this process. */
export interface Mapping {
  /** The mapped bytes (an `ArrayBuffer` over memory other processes see too). */
  readonly buffer: ArrayBuffer;
  /** Address of the first byte, for futex calls. */
  readonly address: bigint;
}

/** What the library needs from libc. */
export interface Native {
  /** A new anonymous segment (memfd): never in /dev/shm, freed when its last user exits. */
  createAnonymous(size: number): Mapping & { fd: number };
  /** Maps segment `fd` of process `pid` (via /proc/pid/fd/fd). */
  attachAnonymous(pid: number, fd: number, size: number): Mapping;
  /** Creates (exclusive) a named POSIX segment, mode 0600. */
  createNamed(name: string, size: number): Mapping;
  /** Maps an existing named POSIX segment; `size` is read from it. */
  attachNamed(name: string): Mapping & { size: number };
  /** Removes a named segment's name (mappings stay valid). */
  unlinkNamed(name: string): void;
  /** Unmaps a mapping. */
  unmap(address: bigint, size: number): void;
  /**
   * Lets go of the memory of the mapping at `address` while keeping its addresses mapped: its
   * pages become private zero pages (`mmap` with `MAP_FIXED`), so a view still over them reads
   * zeros rather than crashing the process, as an unmapped range would.
   */
  release(address: bigint, size: number): void;
  /** Closes a descriptor `createAnonymous` gave (the segment lives on while it is mapped). */
  closeFd(fd: number): void;
  /** FUTEX_WAIT on the int32 at `address` while it equals `expected`, blocking this thread. */
  futexWait(address: bigint, expected: number, timeoutMs?: number): void;
  /** FUTEX_WAKE up to `count` waiters on `address`. */
  futexWake(address: bigint, count: number): number;
  /** `sched_yield()`: another task waiting for this CPU runs first (none waiting: returns). */
  yieldCpu(): void;
}

// Linux's generic values: the same on x86-64 and arm64.
export const PROT_READ_WRITE = 0x1 | 0x2;
export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED`: zero pages in place of a mapping. */
export const MAP_ZEROS_IN_PLACE = 0x02 | 0x20 | 0x10;
export const O_RDWR = 0x2;
export const O_CREAT = 0x40;
export const O_EXCL = 0x80;
export const MFD_CLOEXEC = 0x1;
export const SEEK_END = 2;
export const FUTEX_WAIT = 0;
export const FUTEX_WAKE = 1;
export const MAP_FAILED = (1n << 64n) - 1n;

/**
 * The one raw system call made (everything else goes through libc's functions, found by
 * name): `futex`'s number on each architecture with a backend, by Node's `process.arch` names.
 * (On arm64, 202 is `accept`: x86-64's number there fails every wait at once.)
 */
export const SYS_FUTEX: Readonly<Record<string, number>> = { x64: 202, arm64: 98 };

/** The platform a native layer is asked for; `libc` is the library opened (`libc.so.6`). */
export interface Host {
  /** `process.platform`'s names: `linux`, `darwin`, `win32`, ... */
  platform: string;
  /** `process.arch`'s names: `x64`, `arm64`, ... */
  arch: string;
  /** The C library to open by name. */
  libc: string;
}

/** What a runtime's FFI binds for a supported host. */
export interface Backend {
  readonly host: Host;
  /** `futex`'s system call number on this architecture. */
  readonly sysFutex: number;
}

const THREAD_INSTEAD = `Use the "thread" start method (getContext("thread")): its Value, Array, `
  + `locks, conditions, events, semaphores, barriers, queues and pipes live in `
  + `SharedArrayBuffers and need no native layer. Processes, pools and futures without shared `
  + `objects work under either method.`;

/** The error for a host without this backend (`detail` says what is missing). */
export function unsupported(host: Host, detail?: string): Error {
  return new Error(
    `multiproc: shared memory between processes (the "process" start method's shared objects, `
      + `and SharedMemory) needs Linux on x86-64 or arm64 with glibc; this is ${host.platform} `
      + `(${host.arch})${detail ? `, ${detail}` : ""}. ${THREAD_INSTEAD}`,
  );
}

/**
 * The backend for `host`, or the error saying why it has none: Linux (memfd_create, futex,
 * /proc/<pid>/fd) on x86-64 or arm64. Whether its libc opens is known only when it is opened
 * (`libcUnavailable` then): musl has no `libc.so.6`.
 */
export function backendFor(host: Host): Backend | Error {
  if (host.platform !== "linux") return unsupported(host);
  const sysFutex = SYS_FUTEX[host.arch];
  if (sysFutex === undefined) return unsupported(host, "an architecture it has no backend for");
  return { host, sysFutex };
}

/** The error for a Linux whose C library does not open (musl: no `libc.so.6`). */
export function libcUnavailable(host: Host, cause: unknown): Error {
  const error = unsupported(host, `where ${host.libc} does not open (musl libc?): ${cause}`);
  return new Error(error.message, { cause });
}

/** A relative timespec for futex timeouts, or null for none. */
export function timespec(timeoutMs: number | undefined): BigInt64Array | null {
  if (timeoutMs === undefined || timeoutMs === Infinity) return null;
  const ms = Math.max(0, timeoutMs);
  const sec = Math.floor(ms / 1000);
  return new BigInt64Array([BigInt(sec), BigInt(Math.round((ms - sec * 1000) * 1e6))]);
}

/** Linux's errno values (the same on x86-64 and arm64) that these calls can meet. */
const ERRNO: Readonly<Record<number, readonly [string, string]>> = {
  1: ["EPERM", "operation not permitted"],
  2: ["ENOENT", "no such file or directory"],
  3: ["ESRCH", "no such process"],
  4: ["EINTR", "interrupted system call"],
  5: ["EIO", "input/output error"],
  9: ["EBADF", "bad file descriptor"],
  11: ["EAGAIN", "resource temporarily unavailable"],
  12: ["ENOMEM", "cannot allocate memory"],
  13: ["EACCES", "permission denied"],
  14: ["EFAULT", "bad address"],
  16: ["EBUSY", "device or resource busy"],
  17: ["EEXIST", "file exists"],
  19: ["ENODEV", "no such device"],
  20: ["ENOTDIR", "not a directory"],
  21: ["EISDIR", "is a directory"],
  22: ["EINVAL", "invalid argument"],
  23: ["ENFILE", "too many open files in system"],
  24: ["EMFILE", "too many open files"],
  27: ["EFBIG", "file too large"],
  28: ["ENOSPC", "no space left on device"],
  30: ["EROFS", "read-only file system"],
  36: ["ENAMETOOLONG", "file name too long"],
  38: ["ENOSYS", "function not implemented"],
  40: ["ELOOP", "too many levels of symbolic links"],
  75: ["EOVERFLOW", "value too large for defined data type"],
  88: ["ENOTSOCK", "socket operation on non-socket"],
  95: ["EOPNOTSUPP", "operation not supported"],
  110: ["ETIMEDOUT", "connection timed out"],
};

/** errno's symbolic name (`ENOENT`), or `E<number>` for one not listed here. */
export function errnoName(errno: number): string {
  return ERRNO[errno]?.[0] ?? `E${errno}`;
}

/**
 * A libc call that failed: `errno` is the C library's value (`2`), `code` its name (`ENOENT`),
 * `syscall` the call (`shm_open`); the message says all three, and a hint when there is one.
 */
export class NativeError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;

  constructor(what: string, syscall: string, errno: number, hint = "") {
    const [code, text] = ERRNO[errno] ?? [errnoName(errno), `errno ${errno}`];
    super(`multiproc: ${what} failed: ${code} (${text})${hint ? `: ${hint}` : ""}`);
    this.name = "NativeError";
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}
