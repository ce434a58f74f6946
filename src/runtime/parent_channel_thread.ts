/**
 * The channel of a `"thread"` child started on `node:worker_threads` (Node's, and Deno's for a
 * daemon where Deno's Web Worker cannot be unref'd: popen_thread.ts): its `parentPort`, or on
 * Deno a port of its own.
 * @module
 */
import { parentPort, workerData } from "node:worker_threads";
import { exitNow } from "./host.ts";
import type { ParentChannel } from "./parent_channel.ts";
import { THREAD_PORT, WORKER_STOP } from "./parent_channel_worker.ts";

/** The channel of a child running in a `node:worker_threads` worker. */
export function threadParentChannel(): ParentChannel {
  const own = (workerData as Record<string, MessagePort> | null)?.[THREAD_PORT];
  const port = own ?? parentPort!;
  const receive = (h: (m: unknown) => void) => (m: { op?: string } | null) => {
    if (m?.op === WORKER_STOP) exitNow(1); // the parent reports its kill()'s code
    h(m);
  };
  return {
    send: (m) => port.postMessage(m),
    onMessage: (h) => {
      const handle = receive(h);
      if (own) own.onmessage = (event) => handle(event.data);
      else parentPort!.on("message", handle);
    },
    flush: () => Promise.resolve(), // posted messages are already in the parent's queue
    exit: (code) => exitNow(code),
  };
}
