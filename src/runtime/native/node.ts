/**
 * libc on Node, through koffi (Node has no built-in FFI).
 * @module
 */
import { builtin } from "../host.ts";
import type { Libc } from "./posix.ts";
import {
  type Backend,
  type Host,
  libcUnavailable,
  MAP_FAILED,
  MAP_SHARED,
  MAP_ZEROS_IN_PLACE,
  PROT_READ_WRITE,
} from "./types.ts";

/**
 * What this module uses of koffi, typed here rather than imported from koffi's declarations: a
 * Deno program that imports the library and type-checks (`deno check`, `deno run --check`, the
 * editor) would otherwise need koffi in its own configuration ("Import "koffi" not a
 * dependency"), for code only Node runs.
 */
export interface Koffi {
  load(path: string): KoffiLibrary;
  address(pointer: unknown): number | bigint;
  view(pointer: unknown, length: number): ArrayBuffer;
  errno(): number;
}

/** A library koffi opened: `func` binds one of its functions from its C declaration. */
export interface KoffiLibrary {
  func(declaration: string): (...args: unknown[]) => unknown;
}

/**
 * Loads koffi (not every program needs it), opens `backend`'s libc and binds the calls; throws if
 * koffi does not load, or the platform error if libc does not open.
 */
export function bind(backend: Backend): Libc {
  let koffi: Koffi;
  try {
    const { createRequire } = builtin<typeof import("node:module")>("node:module");
    koffi = loadKoffi(createRequire(import.meta.url), backend.host);
  } catch (error) {
    throw new Error(
      `multiproc: shared memory between processes on Node needs the koffi package (Node has no `
        + `built-in FFI), and it could not load: ${error}. Reinstall multiproc's dependencies `
        + `(npm ci), or use the "thread" start method.`,
      { cause: error },
    );
  }
  let lib: KoffiLibrary;
  try {
    lib = koffi.load(backend.host.libc);
  } catch (error) {
    throw libcUnavailable(backend.host, error);
  }
  const c = {
    memfd_create: lib.func("int memfd_create(const char *name, unsigned int flags)"),
    open: lib.func("int open(const char *path, int flags, unsigned int mode)"),
    shm_open: lib.func("int shm_open(const char *name, int flags, unsigned int mode)"),
    shm_unlink: lib.func("int shm_unlink(const char *name)"),
    ftruncate: lib.func("int ftruncate(int fd, int64_t len)"),
    fallocate: lib.func("int fallocate(int fd, int mode, int64_t offset, int64_t len)"),
    lseek: lib.func("int64_t lseek(int fd, int64_t off, int whence)"),
    close: lib.func("int close(int fd)"),
    mmap: lib.func("void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)"),
    // mmap again, with the address as a number: it names where the zero pages go.
    mmap_at: lib.func(
      "uint64_t mmap(uint64_t addr, size_t len, int prot, int flags, int fd, int64_t off)",
    ),
    munmap: lib.func("int munmap(uint64_t addr, size_t len)"),
    syscall: lib.func(
      "long syscall(long n, uint64_t addr, int op, int val, void *ts, uint64_t addr2, int val3)",
    ),
    sched_yield: lib.func("int sched_yield(void)"),
  };
  const sysFutex = backend.sysFutex;
  return {
    memfdCreate: (name, flags) => Number(c.memfd_create(name, flags)),
    open: (path, flags, mode) => Number(c.open(path, flags, mode)),
    shmOpen: (name, flags, mode) => Number(c.shm_open(name, flags, mode)),
    shmUnlink: (name) => Number(c.shm_unlink(name)),
    ftruncate: (fd, size) => Number(c.ftruncate(fd, size)),
    fallocate: (fd, size) => Number(c.fallocate(fd, 0, 0, size)),
    lseek: (fd, offset, whence) => Number(c.lseek(fd, offset, whence)),
    close: (fd) => Number(c.close(fd)),
    mapShared(fd, size) {
      const ptr = c.mmap(null, size, PROT_READ_WRITE, MAP_SHARED, fd, 0);
      const address = BigInt(koffi.address(ptr));
      if (address === MAP_FAILED) return null;
      return { address, buffer: koffi.view(ptr, size) };
    },
    mapZerosAt(address, size) {
      const at = c.mmap_at(address, size, PROT_READ_WRITE, MAP_ZEROS_IN_PLACE, -1, 0);
      return BigInt(at as number | bigint) === address;
    },
    munmap: (address, size) => Number(c.munmap(address, size)),
    futex: (address, op, value, timeout) =>
      Number(c.syscall(sysFutex, address, op, value, timeout, 0, 0)),
    schedYield: () => Number(c.sched_yield()),
    maxView: builtin<typeof import("node:buffer")>("node:buffer").constants.MAX_LENGTH,
    // koffi keeps errno as each call left it (reading it through libc here could see a value
    // changed by the runtime in between).
    errno: () => koffi.errno(),
  };
}

/**
 * koffi's package name, kept out of the `require` calls: Deno takes a package that a literal
 * `require("...")` names into the module graph of every program that imports this module (a
 * dynamic dependency, resolved at start), though only Node runs this code. Measured: ~0.8 MB more
 * resident memory in every Deno process child (spec/platform.test.ts checks the graph).
 */
const KOFFI = "koffi";

/** The parts of `require` that `loadKoffi` uses. */
export interface Require {
  (id: string): unknown;
  resolve(id: string): string;
}

/**
 * koffi, through `require`. Its native module is opened directly when it is found where koffi's
 * own loader looks for it (its platform's package beside it, or its build directory): ~1 ms here,
 * against ~13 ms for `require("koffi")` on Node 20 and 24 -- most of it koffi's JavaScript around
 * that module (deprecation shims whose `node:util` import loads util's lazy parts, a read of the
 * Node binary's ELF header to tell glibc from musl, which this layer needs anyway). That is ~12 ms
 * less for every Node process that shares memory, a child started with a `Lock` included. koffi's
 * own loading serves wherever that does not find a module with the functions used here.
 */
export function loadKoffi(require: Require, host: Host): Koffi {
  try {
    const { dirname, join } = builtin<typeof import("node:path")>("node:path");
    const { existsSync } = builtin<typeof import("node:fs")>("node:fs");
    const dir = dirname(require.resolve(KOFFI));
    const triplet = `${host.platform}_${host.arch}`;
    const pkg = join("@koromix", `koffi-${host.platform}-${host.arch}`, triplet, "koffi.node");
    const candidates = [
      join(dir, "..", pkg), // the platform's package installed beside koffi (npm, pnpm)
      join(dir, "node_modules", pkg), // or inside it
      join(dir, "build", "koffi", triplet, "koffi.node"), // koffi built from source
    ];
    const file = candidates.find((path) => existsSync(path));
    if (file) {
      // Through `require`, which keeps it under its path: koffi's loader, if the program loads
      // koffi too, gets this module from that cache rather than initializing it a second time.
      const native = require(file) as Record<string, unknown>;
      const uses = ["load", "address", "view", "errno"];
      if (uses.every((name) => typeof native[name] === "function")) {
        return native as unknown as Koffi;
      }
    }
  } catch {
    // koffi's own loader says what is wrong, below
  }
  return require(KOFFI) as Koffi;
}
