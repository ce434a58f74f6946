/**
 * The channel of a `"thread"` child started as a Web Worker (Bun's and Deno's). A Web Worker's
 * end is not always reported to its parent (Deno's never is): the child says its exit code as its
 * last message.
 * @module
 */
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";
import { exitNow } from "./host.ts";
import type { ParentChannel } from "./parent_channel.ts";

/** The `op` of a Web Worker child's last message, `{ op, code }`: its exit code. */
export const WORKER_EXIT = "worker-exit";

/**
 * The `op` of the message a parent sends a Web Worker child it kills or terminates, where the
 * runtime does not say when a worker ends (Deno): the child ends itself and reports, as soon as
 * its event loop is free.
 */
export const WORKER_STOP = "worker-stop";

/**
 * The `workerData` key of the port a Deno parent talks to a `node:worker_threads` child through
 * instead of `parentPort` (see popen_thread.ts nodeThread).
 */
export const THREAD_PORT = "multiproc.port";

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
    onMessage: (h) => {
      scope.addEventListener("message", (e) => {
        const m = (e as MessageEvent).data as { op?: string } | null;
        if (m?.op === WORKER_STOP) {
          report(1); // the parent reports the code of its kill() or terminate()
          exitNow(1);
        }
        h(m);
      });
    },
    flush: () => Promise.resolve(), // posted messages are already in the parent's queue
    exit(code) {
      report(code);
      return exitNow(code);
    },
  };
}
