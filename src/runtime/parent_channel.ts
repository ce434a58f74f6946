/**
 * The child's end of the channel to its parent. A child is told what it is by the entry script
 * that started it (thread or process), never by sniffing. This module serves `"process"`
 * children; `parent_channel_thread.ts` serves `"thread"` ones.
 * @module
 */
import { runtime } from "./detect.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { deno } from "./globals.ts";
import { exitNow, parentGone, ppid, unrefTimer, watchParentPid, writeStdoutSync } from "./host.ts";
import { openedNative } from "./native/mod.ts";

/** How a child sends to and hears from its parent. */
export interface ParentChannel {
  send(message: unknown): void;
  /** As `Popen.walksMessages`, for what this child sends. */
  readonly walksMessages?: boolean;
  onMessage(handler: (message: unknown) => void): void;
  /** Resolves once everything sent so far has left this process (before an exit). */
  flush(): Promise<void>;
  /** Ends this child (for a thread, only that thread) with `code`. */
  exit(code: number): never;
  /**
   * Lets the parent, just woken by a message, run before this child goes on, where it would
   * otherwise wait for this child's CPU (see `yieldToParent` below).
   */
  yieldToParent?(): void;
}

/** The channel of a `"process"` child; it ends the child when the parent goes. */
export function processParentChannel(): ParentChannel {
  watchParent();
  return runtime === "deno" ? denoPipeChannel() : ipcChannel();
}

function ipcChannel(): ParentChannel {
  const proc = globalThis.process;
  proc.on("disconnect", () => exitNow(1));
  // A write that fails finds the parent gone: "disconnect" ends this child, quietly. Node tells
  // of the failure as an "error" event on `process` (which, unheard, would throw first), Bun by
  // returning false. Sends take no completion callback: one costs a `process.nextTick` per send
  // (Node's pool throughput on "process" children: submits +4-80%, map +6-40% without, in four
  // A/B pairs) and on Bun its first use a sleeping child ~0.5 MB (bench/fixtures/rss.mjs).
  proc.on("error", ignoreChannelError);
  return {
    send: (m) => void proc.send!(m),
    walksMessages: runtime === "bun",
    onMessage: (h) => void proc.on("message", h),
    // IPC is ordered: once a last message has been written, so has everything before it.
    flush: () =>
      new Promise<void>((resolve) => {
        try {
          proc.send!({ op: "flushed" }, undefined, undefined, () => resolve());
        } catch {
          resolve();
        }
      }),
    exit: (code) => exitNow(code),
    yieldToParent,
  };
}

/**
 * Ignores an IPC write that failed (the parent has gone: "disconnect" ends this child); any other
 * "error" event on `process` is thrown, as Node does when no one listens, unless the program
 * listens too.
 */
function ignoreChannelError(error: unknown): void {
  const code = (error as { code?: string } | null)?.code;
  if (code === "EPIPE" || code === "ECONNRESET" || code === "ERR_IPC_CHANNEL_CLOSED") return;
  if (globalThis.process.listenerCount("error") <= 1) throw error;
}

function denoPipeChannel(): ParentChannel {
  const handlers: ((m: unknown) => void)[] = [];
  const decoder = new FrameDecoder((m) => handlers.forEach((h) => h(m)));
  (async () => {
    // Read straight into a buffer: a round trip takes ~0.1 ms less than through the stream.
    const stdin = deno().stdin;
    const buf = new Uint8Array(64 * 1024);
    try {
      for (let n = await stdin.read(buf); n !== null; n = await stdin.read(buf)) {
        decoder.push(buf.slice(0, n)); // a copy: the decoder may keep part of it
      }
    } catch {
      // fall through: the parent is gone
    }
    exitNow(1); // stdin closed: the parent has ended
  })();
  return {
    send: (m) => writeStdoutSync(encodeFrame(m)),
    onMessage: (h) => void handlers.push(h),
    flush: () => Promise.resolve(), // writes are synchronous
    exit: (code) => exitNow(code),
    yieldToParent,
  };
}

/**
 * A process child's `yieldToParent`. A message's write wakes the parent onto this child's CPU (a
 * sync wakeup, the other core idle or not), where the parent may wait until this child sleeps or
 * ends. A Deno child is not preempted: there it waited ~1 ms every time (perf sched traces; a warm
 * start's "ready" took 1.0-1.2 ms to be read). A Bun parent waited ~1 ms on about half of the warm
 * starts (start() to "ready": median 1.4-2.0 ms without the yield, 1.05-1.09 with, in 6 alternated
 * runs of 30); Node's are alike with and without (1.09-1.14 ms). A sched_yield lets the parent in;
 * through the native layer if it is open (a spare opens it while it waits), never opened for this
 * alone: its dlopen would cost the child more than the wait.
 */
function yieldToParent(): void {
  openedNative()?.yieldCpu();
}

/** Belt and braces: if this process is re-parented (the parent died), end it. */
function watchParent(): void {
  watchParentPid(ppid());
  unrefTimer(setInterval(() => {
    if (parentGone()) exitNow(1);
  }, 250));
}
