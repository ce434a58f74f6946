/**
 * The child's end of the channel to its parent, for each runtime and start method. A child is
 * told what it is by the entry script that started it (thread or process), never by sniffing.
 * @module
 */
import process from "node:process";
import { parentPort } from "node:worker_threads";
import { runtime } from "./detect.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { deno } from "./globals.ts";
import { exitNow, ppid } from "./host.ts";
import { writeAllSync } from "./stdio.ts";

/** How a child sends to and hears from its parent. */
export interface ParentChannel {
  send(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Ends this child (for a thread, only that thread) with `code`. */
  exit(code: number): never;
}

/** The channel of a child started with the `"thread"` method. */
export function threadParentChannel(): ParentChannel {
  if (runtime !== "bun") {
    const port = parentPort!;
    return {
      send: (m) => port.postMessage(m),
      onMessage: (h) => void port.on("message", h),
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
    exit: (code) => exitNow(code),
  };
}

/** The channel of a child started with the `"process"` method; it ends the child when the parent goes. */
export function processParentChannel(): ParentChannel {
  watchParent();
  return runtime === "deno" ? denoPipeChannel() : ipcChannel();
}

function ipcChannel(): ParentChannel {
  process.on("disconnect", () => exitNow(1));
  return {
    send: (m) => process.send!(m),
    onMessage: (h) => void process.on("message", h),
    exit: (code) => exitNow(code),
  };
}

function denoPipeChannel(): ParentChannel {
  const handlers: ((m: unknown) => void)[] = [];
  const decoder = new FrameDecoder((m) => handlers.forEach((h) => h(m)));
  (async () => {
    try {
      for await (const chunk of deno().stdin.readable) decoder.push(chunk);
    } catch {
      // fall through: the parent is gone
    }
    exitNow(1); // stdin closed: the parent has ended
  })();
  return {
    send: (m) => writeAllSync(encodeFrame(m)),
    onMessage: (h) => void handlers.push(h),
    exit: (code) => exitNow(code),
  };
}

/** Belt and braces: if this process is re-parented (the parent died), end it. */
function watchParent(): void {
  const parent = ppid();
  const timer = setInterval(() => {
    if (ppid() !== parent) exitNow(1);
  }, 250);
  unrefTimer(timer);
}

function unrefTimer(timer: unknown): void {
  if (runtime === "deno") deno().unrefTimer(timer as number);
  else (timer as { unref(): void }).unref();
}
