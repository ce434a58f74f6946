/**
 * The `"thread"` start method: a Web Worker on Bun, and on Deno for a child that is not a daemon;
 * `node:worker_threads` on Node, and on Deno for a daemon (Deno's Web Worker cannot be unref'd,
 * which daemon children and idle pools need; it starts in about a third of the time).
 * @module
 */
import { runtime } from "./detect.ts";
import { entryUrl } from "./entry_url.ts";
import { builtin, pid } from "./host.ts";
import { WORKER_EXIT } from "./parent_channel_worker.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

let nextThreadIdent = 1;

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  ref?(): void;
  unref?(): void;
}

/** Starts a worker thread running the library's thread entry. */
export function launchThread(options: LaunchOptions): Popen {
  if (runtime === "bun" || (runtime === "deno" && !options.daemon)) {
    return webWorker(entryUrl("worker"), options);
  }
  return nodeThread(entryUrl("thread"), options);
}

/**
 * A Web Worker. Its exit code comes as the child's last message; Bun also fires "close" with it
 * (after a raw `process.exit()` in the child, only that), Deno reports no end at all. An
 * uncaught error ends the child with 1, as it would a process (Bun would report 0).
 */
function webWorker(url: string, options: LaunchOptions): Popen {
  const WorkerCtor = (globalThis as unknown as {
    Worker: new(u: string, o: { type: "module" }) => WebWorker;
  }).Worker;
  const worker = new WorkerCtor(url, { type: "module" });
  const reportsEnd = runtime === "bun";
  let forced: number | null = null;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const end = (code: number) => resolveExit(forced ?? code);
  const stop = (code: number) => {
    forced ??= code;
    worker.terminate();
    if (!reportsEnd) end(code);
  };
  worker.addEventListener("message", (event) => {
    const m = (event as MessageEvent).data as { op?: string; code?: number } | null;
    if (m?.op !== WORKER_EXIT) return options.onMessage(m);
    end(m.code ?? 1);
    if (!reportsEnd) worker.terminate();
  });
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    if (runtime === "bun") {
      const e = event as ErrorEvent;
      console.error(e.error?.stack ?? `Uncaught ${e.message}`);
    } // Deno has printed it
    end(1);
    worker.terminate();
  });
  worker.addEventListener("close", (event) => end((event as CloseEvent).code));
  const unrefable = (method: "ref" | "unref") => () => {
    if (!worker[method]) {
      throw new Error(`multiproc internal error: this runtime's Web Worker has no ${method}()`);
    }
    worker[method]();
  };
  return {
    pid,
    ident: nextThreadIdent++,
    exited,
    send: (m) => worker.postMessage(m),
    terminate: () => stop(-15),
    kill: () => stop(-9),
    unref: unrefable("unref"),
    ref: unrefable("ref"),
  };
}

/** A `node:worker_threads` worker (loaded on first use: on Deno, Node compatibility costs). */
function nodeThread(url: string, options: LaunchOptions): Popen {
  const { Worker } = builtin<typeof import("node:worker_threads")>("node:worker_threads");
  const worker = new Worker(...workerSource(url));
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
