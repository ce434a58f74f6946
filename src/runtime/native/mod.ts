/**
 * The native layer of this runtime, loaded once at import (top-level await) so that shared
 * objects can be created synchronously. On Deno it loads only when `--allow-ffi` is granted
 * (it never prompts); otherwise the reason is kept and thrown at first use.
 * @module
 */
import { runtime } from "../detect.ts";
import { deno } from "../globals.ts";
import type { Native } from "./types.ts";

export type { Mapping, Native } from "./types.ts";

async function load(): Promise<Native | Error> {
  try {
    if (runtime === "deno") {
      if (deno().permissions.querySync({ name: "ffi" }).state !== "granted") {
        return new Error(
          `multiproc: shared memory between processes needs FFI on Deno: run with --allow-ffi `
            + `(or -A), or use the "thread" start method.`,
        );
      }
      return (await import("./deno.ts")).native;
    }
    return runtime === "bun"
      ? (await import("./bun.ts")).native
      : (await import("./node.ts")).native;
  } catch (error) {
    return new Error(`multiproc: cannot load the native shared-memory layer: ${error}`, {
      cause: error,
    });
  }
}

const loaded = await load();

/** The native layer; throws the reason it could not load. */
export function native(): Native {
  if (loaded instanceof Error) throw loaded;
  return loaded;
}
