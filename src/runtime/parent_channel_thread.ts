/**
 * The channel of a `"thread"` child: Bun's Web Worker scope on Bun, `node:worker_threads`'
 * `parentPort` on Node and Deno.
 * @module
 */
import { parentPort } from "node:worker_threads";
import { runtime } from "./detect.ts";
import { exitNow } from "./host.ts";
import type { ParentChannel } from "./parent_channel.ts";

/** The channel of a child started with the `"thread"` method. */
export function threadParentChannel(): ParentChannel {
  if (runtime !== "bun") {
    const port = parentPort!;
    return {
      send: (m) => port.postMessage(m),
      onMessage: (h) => void port.on("message", h),
      flush: () => Promise.resolve(), // posted messages are already in the parent's queue
      exit: (code) => exitNow(code),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    addEventListener(t: "message", l: (e: MessageEvent) => void): void;
  };
  return {
    send: (m) => scope.postMessage(m),
    onMessage: (h) => scope.addEventListener("message", (e) => h(e.data)),
    flush: () => Promise.resolve(),
    exit: (code) => exitNow(code),
  };
}
