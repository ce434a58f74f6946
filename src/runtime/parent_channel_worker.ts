/**
 * The channel of a `"thread"` child started as a Web Worker (Bun's, and Deno's for a child that
 * is not a daemon). A Web Worker's end is not always reported to its parent (Deno's never is):
 * the child says its exit code as its last message.
 * @module
 */
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";
import { exitNow } from "./host.ts";
import type { ParentChannel } from "./parent_channel.ts";

/** The `op` of a Web Worker child's last message, `{ op, code }`: its exit code. */
export const WORKER_EXIT = "worker-exit";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
}

/** The channel of a child running in a Web Worker. */
export function workerParentChannel(): ParentChannel {
  const scope = globalThis as unknown as WorkerScope;
  let reported = false;
  const report = (code: number) => {
    if (reported) return;
    reported = true;
    scope.postMessage({ op: WORKER_EXIT, code });
  };
  // Deno ends only the worker on `Deno.exit()` or `process.exit()` in it, and fires "unload".
  if (runtime === "deno") scope.addEventListener("unload", () => report(deno().exitCode));
  return {
    send: (m) => scope.postMessage(m),
    onMessage: (h) => scope.addEventListener("message", (e) => h((e as MessageEvent).data)),
    flush: () => Promise.resolve(), // posted messages are already in the parent's queue
    exit(code) {
      report(code);
      return exitNow(code);
    },
  };
}
