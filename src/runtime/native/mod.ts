/**
 * The native layer of this runtime, opened at the first `native()`: its FFI (koffi on Node,
 * `bun:ffi`, `Deno.dlopen`) is loaded then, not at import, so that a program or child that shares
 * no memory between processes never loads it, and nothing here awaits at its top level. On Deno
 * it opens only when `--allow-ffi` is granted (it never prompts). Where there is no backend (not
 * Linux, an architecture other than x86-64 and arm64, no glibc) `native()` throws the reason at
 * every use, naming the platform; nothing else needs this layer, so importing the library and
 * running processes without shared objects work there.
 * @module
 */
import { runtime } from "../detect.ts";
import { deno } from "../globals.ts";
import { bind as bindBun } from "./bun.ts";
import { bind as bindDeno } from "./deno.ts";
import { bind as bindNode } from "./node.ts";
import { type Libc, posixNative } from "./posix.ts";
import { type Backend, backendFor, type Host, type Native } from "./types.ts";

export type { Host, Mapping, Native } from "./types.ts";
export { NativeError } from "./types.ts";

type Bind = (backend: Backend) => Libc;

/** This runtime's binding of libc, or why there is none here. */
function binding(): Bind | Error {
  if (runtime === "deno") {
    if (deno().permissions.querySync({ name: "ffi" }).state !== "granted") {
      return new Error(
        `multiproc: shared memory between processes (SharedMemory and ShareableList, under any `
          + `start method, and the shared objects of "process" and "forkserver") needs FFI on `
          + `Deno: run with --allow-ffi (or -A). The "thread" start method's Value, Lock, Queue `
          + `and the rest need none.`,
      );
    }
    return bindDeno;
  }
  return runtime === "bun" ? bindBun : bindNode;
}

const ARCH: Readonly<Record<string, string>> = { x86_64: "x64", aarch64: "arm64" };

/** The platform this code runs on, in `process.platform`/`process.arch` names. */
export function thisHost(): Host {
  const g = globalThis as {
    Deno?: { build?: { os: string; arch: string } };
    process?: { platform: string; arch: string };
  };
  const build = g.Deno?.build;
  if (build) {
    const platform = build.os === "windows" ? "win32" : build.os;
    return { platform, arch: ARCH[build.arch] ?? build.arch, libc: "libc.so.6" };
  }
  return { platform: g.process!.platform, arch: g.process!.arch, libc: "libc.so.6" };
}

/**
 * The native layer for `host` through this runtime's FFI, or the error saying why there is
 * none (`host` is this platform, or another to see its error). Opens libc each call.
 */
export function nativeFor(host: Host): Native | Error {
  const bind = binding();
  if (bind instanceof Error) return bind;
  const backend = backendFor(host);
  if (backend instanceof Error) return backend;
  try {
    return posixNative(bind(backend));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

let resolved: Native | Error | undefined;

/** The native layer if it has been opened already (never opens it), else undefined. */
export function openedNative(): Native | undefined {
  return resolved instanceof Error ? undefined : resolved;
}

/** The native layer, made at first use; throws (a fresh error each time) if there is none. */
export function native(): Native {
  resolved ??= nativeFor(thisHost());
  if (!(resolved instanceof Error)) return resolved;
  throw new Error(resolved.message, { cause: resolved.cause });
}
