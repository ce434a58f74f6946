/**
 * Platform assumptions, made explicit: which hosts have the native backend (Linux on x86-64 and
 * arm64, with glibc) and with which futex system call number; the error any other host gets at
 * first use, naming it and pointing to the "thread" start method; and errno in native errors.
 * The detection is a function of the host, so other platforms' errors are checked here too.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runtime } from "../src/runtime/detect.ts";
import { type Native, NativeError, nativeFor, thisHost } from "../src/runtime/native/mod.ts";
import { loadKoffi, type Require } from "../src/runtime/native/node.ts";
import { type Libc, posixNative } from "../src/runtime/native/posix.ts";
import { backendFor, type Host } from "../src/runtime/native/types.ts";

const here = thisHost();
const host = (platform: string, arch: string, libc = "libc.so.6"): Host => ({
  platform,
  arch,
  libc,
});

/** The error `nativeFor(h)` gives, checked to say `words` and to point to "thread". */
function unsupportedError(h: Host, ...words: RegExp[]): Error {
  const error = nativeFor(h);
  assert.ok(error instanceof Error, `${h.platform} ${h.arch}: no error`);
  assert.match(error.message, /^multiproc: shared memory between processes/);
  assert.match(error.message, /needs Linux on x86-64 or arm64 with glibc/);
  assert.match(error.message, /Use the "thread" start method/);
  for (const word of words) assert.match(error.message, word);
  return error;
}

test("platform: this host is Linux on x86-64 or arm64, and has the backend", () => {
  assert.equal(here.platform, "linux");
  assert.ok(["x64", "arm64"].includes(here.arch), here.arch);
  assert.ok(!(nativeFor(here) instanceof Error));
});

test("platform: the futex system call number follows the architecture", () => {
  assert.deepEqual(backendFor(host("linux", "x64")), { host: host("linux", "x64"), sysFutex: 202 });
  // 202 on arm64 is accept(2): x86-64's number there fails every wait at once.
  assert.equal((backendFor(host("linux", "arm64")) as { sysFutex: number }).sysFutex, 98);
});

test("platform: macOS and Windows get an error naming the platform and saying to use thread", () => {
  unsupportedError(host("darwin", "arm64"), /this is darwin \(arm64\)/);
  unsupportedError(host("darwin", "x64"), /this is darwin \(x64\)/);
  unsupportedError(host("win32", "x64"), /this is win32 \(x64\)/);
  unsupportedError(host("freebsd", "x64"), /this is freebsd/);
});

test("platform: a Linux architecture without a backend gets the error naming it", () => {
  unsupportedError(
    host("linux", "riscv64"),
    /this is linux \(riscv64\), an architecture it has no backend for/,
  );
  unsupportedError(host("linux", "ia32"), /this is linux \(ia32/);
});

test("platform: a Linux whose libc.so.6 does not open (musl) gets the error naming that", () => {
  // The library this runtime's FFI is asked to open stands for musl's missing libc.so.6.
  const error = unsupportedError(
    host("linux", here.arch, "libc.so.no-such-libc"),
    new RegExp(
      `this is linux \\(${here.arch}\\), where libc\\.so\\.no-such-libc does not open \\(musl libc\\?\\)`,
    ),
  );
  assert.ok(error.cause, "the FFI's own error is kept as the cause");
});

function lib(): Native {
  const n = nativeFor(here);
  if (n instanceof Error) throw n;
  return n;
}

/** Asserts that `run` throws a NativeError with errno `code` (`errno`) from `syscall`. */
function throwsErrno(run: () => unknown, code: string, errno: number, syscall: string, re: RegExp) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof NativeError, `not a NativeError: ${e}`);
    assert.equal(e.code, code);
    assert.equal(e.errno, errno);
    assert.equal(e.syscall, syscall);
    assert.match(e.message, /^multiproc: /);
    assert.match(e.message, re);
    return true;
  });
}

test("platform: native errors carry errno (number and name) and say it", () => {
  const n = lib();
  const name = `/mp_platform_${crypto.randomUUID().slice(0, 8)}`;
  throwsErrno(
    () => n.attachNamed(name),
    "ENOENT",
    2,
    "shm_open",
    /shm_open\('.*'\) failed: ENOENT \(no such file or directory\): no segment of that name exists/,
  );
  throwsErrno(() => n.unlinkNamed(name), "ENOENT", 2, "shm_unlink", /ENOENT/);
  const made = n.createNamed(name, 4096);
  try {
    throwsErrno(
      () => n.createNamed(name, 4096),
      "EEXIST",
      17,
      "shm_open",
      /failed: EEXIST \(file exists\): a segment of that name may exist already/,
    );
  } finally {
    n.unmap(made.address, 4096);
    n.unlinkNamed(name);
  }
  throwsErrno(
    () => n.attachAnonymous(2 ** 22 + 12345, 3, 4096), // above pid_max's default
    "ENOENT",
    2,
    "open",
    /attaching shared memory of process \d+ failed: ENOENT .*: that process has ended, and its shared objects with it; make shared objects in the main process/,
  );
});

test("platform: futex waits sleep on this architecture, and end early only as they should", () => {
  const n = lib();
  const m = n.createAnonymous(4096);
  try {
    const t0 = performance.now();
    n.futexWait(m.address, 0, 60); // the word is 0: sleeps until the timeout (ETIMEDOUT)
    const slept = performance.now() - t0;
    assert.ok(slept >= 50, `a 60 ms futex wait returned after ${slept.toFixed(1)} ms`);
    const t1 = performance.now();
    n.futexWait(m.address, 1, 5000); // the word is not 1: returns at once (EAGAIN)
    assert.ok(performance.now() - t1 < 1000, "a wait on a changed word slept");
    assert.equal(n.futexWake(m.address, 1), 0); // nobody waits
    const t2 = performance.now();
    n.yieldCpu(); // a warm start's child lets its parent run (sched_yield): returns at once
    assert.ok(performance.now() - t2 < 1000, "sched_yield did not return");
  } finally {
    n.unmap(m.address, 4096);
  }
});

test("platform: a futex wait whose errno futex never gives ends early; its real failures throw", () => {
  // A libc whose futex fails with the errno given, as the runtime may leave errno between the
  // call and its read (ENOENT, seen once under Node 24).
  const failing = (errno: number) =>
    posixNative({ futex: () => -1, errno: () => errno } as unknown as Libc);
  const word = 0n;
  for (const early of [2, 11, 110, 4]) failing(early).futexWait(word, 0, 10); // ENOENT, EAGAIN, ...
  assert.throws(() => failing(14).futexWait(word, 0, 10), (e: Error) => {
    assert.ok(e instanceof NativeError);
    assert.equal(e.code, "EFAULT");
    return true;
  });
  assert.throws(() => failing(22).futexWait(word, 0, 10), /futex wait failed: EINVAL/);
});

const onNode = { skip: runtime !== "node" && "koffi is Node's FFI" };

test("platform: on Node, koffi's native module opens directly, and calls into libc", onNode, () => {
  const require = createRequire(import.meta.url);
  const koffi = loadKoffi(require, here);
  const getpid = koffi.load(here.libc).func("int getpid()");
  assert.equal(getpid(), process.pid);
  // The native module itself, not koffi's exports; and koffi, loaded by the program too, wraps
  // that same module (not a second copy of it).
  const loaded = require("koffi") as typeof koffi & { default: typeof koffi };
  assert.notEqual(koffi, loaded);
  assert.equal(loaded.default, koffi);
});

test("platform: on Node, koffi loads itself where its native module is not found", onNode, () => {
  const empty = mkdtempSync(join(tmpdir(), "multiproc-koffi-"));
  try {
    const loaded: string[] = [];
    const fake = Object.assign((id: string) => {
      loaded.push(id);
      return { from: "require" };
    }, { resolve: () => join(empty, "index.cjs") }) as Require;
    assert.deepEqual(loadKoffi(fake, here), { from: "require" });
    assert.deepEqual(loaded, ["koffi"]);
    // A resolve that throws (koffi not installed): the same, so that koffi's error is the one told.
    const missing = Object.assign((id: string) => ({ id }), {
      resolve: () => {
        throw new Error("Cannot find module 'koffi'");
      },
    }) as Require;
    assert.deepEqual(loadKoffi(missing, here), { id: "koffi" });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test(
  "platform: Deno's module graph of mod.ts takes in no npm package (koffi: Node's, by name)",
  { skip: runtime !== "deno" && "Deno's module graph" },
  () => {
    // A package a literal `require("…")` names is in the graph of every Deno program that imports
    // the module (as a dynamic dependency, which Deno resolves): ~0.8 MB more in every Deno
    // process child, for Node's FFI.
    const mod = new URL("../mod.ts", import.meta.url).href;
    const graph = JSON.parse(
      execFileSync(process.execPath, ["info", "--json", mod], { encoding: "utf8" }),
    ) as { modules: { dependencies?: { code?: { specifier: string } }[] }[] };
    const code = graph.modules.flatMap((m) => m.dependencies ?? [])
      .map((d) => d.code?.specifier ?? "")
      .filter((s) => s.includes("/node_modules/"));
    assert.deepEqual(code, []);
  },
);
