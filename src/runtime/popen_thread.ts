/**
 * The `"thread"` start method: a Web Worker on Bun and Deno, `node:worker_threads` on Node. Deno's
 * Web Worker has no public `unref()`, which daemon children and idle pools need: a daemon there
 * uses the function Deno's own worker keeps for it (`denoWorkerRef`), or, where a Deno lacks it,
 * runs on `node:worker_threads` (whose `new Worker` holds the parent's thread ~40-80 ms here,
 * against ~12-20 ms for a Web Worker).
 * @module
 */
import { globalKey } from "../core/process_wide.ts";
import { bunPreloads } from "./bun_flags.ts";
import { runtime } from "./detect.ts";
import { entryToStart } from "./entry_url.ts";
import { builtin, mainScript, pid, unrefTimer } from "./host.ts";
import { nodeWorker, threadEntryTsx, TSX_REGISTERED } from "./node_loader.ts";
import { THREAD_PORT, WORKER_EXIT, WORKER_STOP } from "./parent_channel_worker.ts";
import { frozenChildEnv, standaloneMain } from "./standalone.ts";

/** How long a Deno Web Worker child is given to end itself before `terminate()` (see stop). */
const STOP_GRACE_MS = 500;
/** How long a `node:worker_threads` child on Node is given to end itself (see nodeThread). */
const NODE_STOP_GRACE_MS = 250;
import type { LaunchOptions, Popen } from "./popen.ts";

let nextThreadIdent = 1;

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  ref?(): void;
  unref?(): void;
}

/**
 * Starts a worker thread running the library's thread entry; in a single-file executable, a Web
 * Worker on its main module, as a child (standalone.ts).
 */
export function launchThread(options: LaunchOptions): Popen {
  const main = standaloneMain();
  if (main !== null) {
    return webWorker(main, options, {
      env: frozenChildEnv("worker"),
      argv: mainScript().args, // what the main module sees as it is evaluated
    });
  }
  if (runtime === "bun" || (runtime === "deno" && (!options.daemon || denoWorkerRef()))) {
    return webWorker(entryToStart("worker"), options);
  }
  return nodeThread(entryToStart("thread"), options);
}

/** Bun's own options of a Web Worker: its `process.env` and the arguments after its script. */
interface BunWorkerOptions {
  env?: Record<string, string | undefined>;
  argv?: string[];
}

/**
 * A Web Worker. Its exit code comes as the child's last message; Bun also fires "close" with it
 * (after a raw `process.exit()` in the child, only that), Deno reports no end at all. An
 * uncaught error ends the child with 1, as it would a process (Bun would report 0).
 */
function webWorker(url: string, options: LaunchOptions, bunOptions: BunWorkerOptions = {}): Popen {
  const WorkerCtor = (globalThis as unknown as {
    Worker: new(
      u: string,
      o: { type: "module"; preload?: string[] } & BunWorkerOptions,
    ) => WebWorker;
  }).Worker;
  // Bun's workers run no preload of the program's unless told (bun_flags.ts).
  const preload = runtime === "bun" ? bunPreloads() : [];
  const worker = new WorkerCtor(url, {
    type: "module",
    ...(preload.length ? { preload } : {}),
    ...bunOptions,
  });
  // Sent at once: a child's entry installs its listener as its modules are evaluated, and none
  // of them awaits at its top level (native/mod.ts: the native layer opens at its first use), so
  // no message can arrive before it listens.
  const send = (m: unknown) => worker.postMessage(m);
  const reportsEnd = runtime === "bun";
  let forced: number | null = null;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const end = (code: number) => resolveExit(forced ?? code);
  const stop = (code: number) => {
    forced ??= code;
    if (reportsEnd) return worker.terminate();
    // Deno says neither when a worker ends nor whether terminate() stopped it (a busy one runs
    // on: denoland/deno#35657). The child reports its own end: at once if its event loop is
    // free (this message), within ~100 ms if it is blocked in the library (the thread table).
    // Until it has, its exitCode stays null: it may well still run.
    send({ op: WORKER_STOP });
    unrefTimer(setTimeout(() => worker.terminate(), STOP_GRACE_MS));
  };
  worker.addEventListener("message", (event) => {
    const m = (event as MessageEvent).data as { op?: string; code?: number } | null;
    if (m?.op !== WORKER_EXIT) return options.onMessage(m);
    // The child ends itself right after this message (exit(), a stop request, or its unload).
    // No terminate() here: on Deno, terminating a worker that has ended itself costs ~3 KB of
    // native memory per child, never returned (measured: 4.4 KB per child with it, 0.9 without,
    // over 10 000 bare workers; denoland/deno#26058).
    end(m.code ?? 1);
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
  const refMethod = runtime === "deno" ? denoWorkerRef() : null;
  let refd = true;
  const unrefable = (method: "ref" | "unref") => () => {
    if (refMethod) {
      // Deno's counts references: called on a change only, as `ref()`/`unref()` may repeat.
      if (refd !== (method === "ref")) refMethod.call(worker, refd = method === "ref");
      return;
    }
    if (!worker[method]) {
      throw new Error(`multiproc internal error: this runtime's Web Worker has no ${method}()`);
    }
    worker[method]();
  };
  return {
    pid,
    ident: nextThreadIdent++,
    exited,
    send,
    terminate: () => stop(-15),
    kill: () => stop(-9),
    unref: unrefable("unref"),
    ref: unrefable("ref"),
  };
}

type RefMethod = (this: unknown, ref: boolean) => void;

/**
 * Deno's Web Worker keeps its parent alive until it is terminated, and has no public `ref` or
 * `unref`: its prototype has one method for both, under a symbol of no description, `(ref:
 * boolean)`, counting references (Deno 2.x). That method, found by that shape (the one such
 * symbol, a function of one parameter), or null: then a daemon thread runs on
 * `node:worker_threads` (the spec checks that the pinned Deno has it).
 */
export function denoWorkerRef(): RefMethod | null {
  if (denoRef !== undefined) return denoRef;
  const worker = (globalThis as { Worker?: { prototype: object } }).Worker;
  const proto = (worker?.prototype ?? {}) as Record<symbol, unknown>;
  const found = Object.getOwnPropertySymbols(proto).filter((s) =>
    s.description === undefined && typeof proto[s] === "function"
    && (proto[s] as RefMethod).length === 1
  );
  denoRef = found.length === 1 ? proto[found[0]] as RefMethod : null;
  return denoRef;
}
/** `denoWorkerRef`'s answer, once found. */
let denoRef: RefMethod | null | undefined;

/** A `node:worker_threads` worker (loaded on first use: on Deno, Node compatibility costs). */
function nodeThread(url: string, options: LaunchOptions): Popen {
  const { Worker } = builtin<typeof import("node:worker_threads")>("node:worker_threads");
  const [source, evalOption] = workerSource(url);
  // The program's arguments: node:process's argv in the worker is the parent's (on Deno too).
  // On Deno, messages go through a port of their own: `worker.postMessage` and `on("message")`
  // walk every message looking for ports to patch (~9 ms per 50 chunks of 1000 numbers), a
  // port's `onmessage` does not (measured: 50 such chunks there and back 3 ms against 5).
  const channel = runtime === "deno" ? new MessageChannel() : undefined;
  // On Node, with the parent's loader flags as the thread's entry needs them (node_loader.ts).
  const worker = nodeWorker(Worker, source, {
    ...evalOption,
    argv: mainScript().args,
    ...(channel && {
      workerData: { [THREAD_PORT]: channel.port2 },
      transferList: [channel.port2] as unknown as import("node:worker_threads").TransferListItem[],
    }),
  }, runtime === "node" ? url : undefined);
  let forced: number | null = null;
  let terminated = false;
  const exited = new Promise<number>((resolve) => {
    worker.on("exit", (code) => {
      // Deno reports "exit" after terminate() even for a worker that runs on (see webWorker):
      // only the child's own exit is believed there.
      if (!(runtime === "deno" && terminated)) resolve(forced ?? code);
    });
  });
  const port = channel?.port1 as (MessagePort & { ref(): void; unref(): void }) | undefined;
  if (port) port.onmessage = (event) => options.onMessage(event.data);
  else worker.on("message", options.onMessage);
  worker.on("error", (error: Error) => console.error(error?.stack ?? error));
  const stop = (code: number) => {
    forced ??= code;
    // First the child is asked to end itself at a safe point: at once if its event loop is free,
    // within ~100 ms if it is in the library (its thread-table slot is cleared). Only then is it
    // terminated: on Node, terminating a worker inside a native call (koffi's, for shared memory
    // between processes) aborts the whole process ("napi_throw" fatal error).
    (port ?? worker).postMessage({ op: WORKER_STOP });
    unrefTimer(setTimeout(() => {
      terminated = true;
      void worker.terminate();
    }, runtime === "deno" ? STOP_GRACE_MS : NODE_STOP_GRACE_MS));
  };
  return {
    pid,
    ident: runtime === "node" ? worker.threadId : nextThreadIdent++,
    exited,
    send: port ? (m) => port.postMessage(m) : (m) => worker.postMessage(m),
    terminate: () => stop(-15),
    kill: () => stop(-9),
    unref: () => (worker.unref(), port?.unref()),
    ref: () => (worker.ref(), port?.ref()),
  };
}

/**
 * What `node:worker_threads` is given to run `url`. The worker inherits the parent's flags, its
 * loader among them; where that loader (tsx) does not register itself in worker threads and
 * Node cannot strip types (Node 20), a TypeScript entry is imported after a prelude registers
 * the parent's tsx here (node_loader.ts). Deno's takes only `file:` and `data:` URLs: a library
 * imported from `http(s):` is imported by a one-line `data:` module instead.
 */
function workerSource(url: string): [string | URL, { eval: true }?] {
  const u = JSON.stringify(url);
  const tsx = runtime === "node" ? threadEntryTsx(url) : undefined;
  if (tsx) {
    const prelude =
      `globalThis[Symbol.for(${JSON.stringify(globalKey(TSX_REGISTERED).description)})] = true;`
      + `(await import(${JSON.stringify(tsx)})).register();`;
    return [`${prelude} await import(${u});`, { eval: true }];
  }
  if (!url.startsWith("file:")) {
    return [new URL(`data:text/javascript,${encodeURIComponent(`import ${u};`)}`)];
  }
  return [new URL(url)];
}
