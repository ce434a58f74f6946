/**
 * The `"thread"` start method: Bun's Web Worker on Bun; `node:worker_threads` on Node and on
 * Deno (where it is Deno's own worker underneath, and unlike Deno's Web Worker reports an exit
 * code and can be unref'd, which daemon children and idle pools need).
 * @module
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { runtime } from "./detect.ts";
import { entryUrl } from "./entry_url.ts";
import { pid } from "./host.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

let nextThreadIdent = 1;

interface BunWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  ref(): void;
  unref(): void;
}

/** Starts a worker thread running the library's thread entry. */
export function launchThread(options: LaunchOptions): Popen {
  const url = entryUrl("thread");
  return runtime === "bun" ? bunThread(url, options) : nodeThread(url, options);
}

function bunThread(url: string, options: LaunchOptions): Popen {
  const WorkerCtor = (globalThis as unknown as { Worker: new(u: string) => BunWorker }).Worker;
  const worker = new WorkerCtor(url);
  let forced: number | null = null;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  worker.addEventListener("message", (event) => options.onMessage((event as MessageEvent).data));
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    const e = event as ErrorEvent;
    console.error(e.error?.stack ?? `Uncaught ${e.message}`);
  });
  worker.addEventListener("close", (event) => resolveExit(forced ?? (event as CloseEvent).code));
  const stop = (code: number) => {
    forced ??= code;
    worker.terminate();
  };
  return {
    pid,
    ident: nextThreadIdent++,
    exited,
    send: (m) => worker.postMessage(m),
    terminate: () => stop(-15),
    kill: () => stop(-9),
    unref: () => worker.unref(),
    ref: () => worker.ref(),
  };
}

function nodeThread(url: string, options: LaunchOptions): Popen {
  const worker = new NodeWorker(...workerSource(url));
  let forced: number | null = null;
  const exited = new Promise<number>((resolve) => {
    worker.on("exit", (code) => resolve(forced ?? code));
  });
  worker.on("message", options.onMessage);
  worker.on("error", (error: Error) => console.error(error?.stack ?? error));
  const stop = (code: number) => {
    forced ??= code;
    void worker.terminate();
  };
  return {
    pid,
    ident: runtime === "node" ? worker.threadId : nextThreadIdent++,
    exited,
    send: (m) => worker.postMessage(m),
    terminate: () => stop(-15),
    kill: () => stop(-9),
    unref: () => worker.unref(),
    ref: () => worker.ref(),
  };
}

/**
 * What `node:worker_threads` is given to run `url`. Node 20 workers cannot load TypeScript, even
 * under tsx: tsx's `tsImport` can. Deno's takes only `file:` and `data:` URLs: a library imported
 * from `http(s):` is imported by a one-line `data:` module instead.
 */
function workerSource(url: string): [string | URL, { eval: true }?] {
  const u = JSON.stringify(url);
  if (runtime === "node" && url.endsWith(".ts")) {
    return [`const { tsImport } = await import("tsx/esm/api"); await tsImport(${u}, ${u});`, {
      eval: true,
    }];
  }
  if (!url.startsWith("file:")) {
    return [new URL(`data:text/javascript,${encodeURIComponent(`import ${u};`)}`)];
  }
  return [new URL(url)];
}
