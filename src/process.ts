/**
 * `Process`: runs an exported function in a child (a thread or an OS process), as CPython's
 * `multiprocessing.Process`.
 * @module
 */
import { methodOf } from "./bound.ts";
import { callerModule } from "./callsite.ts";
import { ProcessError } from "./errors.ts";
import { encodeArgs } from "./handles.ts";
import { keepAlive } from "./keep_alive.ts";
import type { BootMessage, NotFoundMessage } from "./protocol.ts";
import { commandLine } from "./runtime/argv.ts";
import { onProcessExit } from "./runtime/os.ts";
import { launch, type Popen, type StartMethod } from "./runtime/popen.ts";
import { trackerRef } from "./shm/tracker.ts";
import { withTimeout } from "./sleep.ts";
import { state } from "./state.ts";
import { endThread, newThreadIdentity, type ThreadIdentity } from "./sync/owner.ts";
import { describeTarget, resolveTarget, type TargetRef } from "./task.ts";

/**
 * Options of `new Process()`.
 * @example
 * ```ts
 * import { isMain, Process } from "multiproc";
 * export function greet(who: string) {
 *   console.log(`hello ${who}`);
 * }
 * if (isMain(import.meta)) {
 *   const p = new Process({ target: greet, args: ["world"], name: "greeter", daemon: true });
 *   p.start();
 *   await p.join();
 * }
 * ```
 */
export interface ProcessOptions<A extends unknown[] = unknown[]> {
  /** An exported function (sync or async) to run in the child. */
  target: (...args: A) => unknown;
  /** Arguments for `target`; they cross by structured clone, shared objects as handles. */
  args?: A;
  /** Defaults to `Process-N`. */
  name?: string;
  /** Daemon children are ended when the main process exits. */
  daemon?: boolean;
  /** The module that exports `target` (`import.meta.url`, a URL or a path). */
  module?: string | URL;
}

type Phase = "new" | "starting" | "running" | "exited" | "failed";

/** Children started from this isolate and not yet known to have exited. */
const active = new Set<Process>();

/** Daemon children still running: ended when this process exits. */
const daemons = new Set<Popen>();
onProcessExit(() => daemons.forEach((popen) => popen.kill()));

/** What the library's own children (pool workers) add to a `Process`: internal, not public. */
export interface ChildHooks {
  /** The function to run, already resolved (the library's own worker loop). */
  readonly ref: TargetRef;
  /** Called with each message the child sends besides the library's own. */
  readonly onMessage: (message: unknown) => void;
}

/** Option key under which the library passes `ChildHooks`. */
export const CHILD_HOOKS: unique symbol = Symbol("multiproc.childHooks") as never;

/**
 * A child running `target(...args)`.
 * @example
 * ```ts
 * import { isMain, Process, sleep } from "multiproc";
 *
 * export async function something(id: number) {
 *   console.log(`${id}--Going to Sleep`);
 *   await sleep(100);
 *   console.log(`${id}--Woke Up`);
 * }
 *
 * if (isMain(import.meta)) {
 *   const p = new Process({ target: something, args: [0] });
 *   p.start();
 *   await p.join();
 * }
 * ```
 */
export class Process<A extends unknown[] = unknown[]> {
  /** The child's name; `Process-N` unless given. */
  name: string;
  #daemon: boolean;
  readonly #target: (...args: never[]) => unknown;
  readonly #args: readonly unknown[];
  readonly #module: string | URL | undefined;
  readonly #caller: string | undefined;
  readonly #method: StartMethod;
  readonly #identity: number[];
  #phase: Phase = "new";
  #closed = false;
  #popen: Popen | undefined;
  #exitCode: number | null = null;
  #pendingSignal: "terminate" | "kill" | undefined;
  #started: Promise<void> | undefined;
  readonly #hooks: ChildHooks | undefined;
  #ended: Promise<void> | undefined;
  /** A thread child's slot in this process's thread table: cleared when it is ended. */
  #thread: ThreadIdentity | null = null;

  constructor(options: ProcessOptions<A>) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        "new Process() needs an options object: { target, args?, name?, daemon? }",
      );
    }
    const s = state();
    this.#identity = [...s.identity, ++s.childCounter];
    this.name = options.name ?? `Process-${this.#identity.join(":")}`;
    this.#daemon = options.daemon ?? false;
    this.#target = options.target as (...args: never[]) => unknown;
    this.#args = options.args ?? [];
    if (!Array.isArray(this.#args)) {
      throw new TypeError(
        `Process '${this.name}': args must be an array, got ${typeof options.args}`,
      );
    }
    this.#module = options.module;
    this.#caller = callerModule();
    this.#method = methodOf(new.target);
    this.#hooks = (options as { [CHILD_HOOKS]?: ChildHooks })[CHILD_HOOKS];
  }

  /** Whether the child ends when the main process exits; settable until `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#phase !== "new") {
      throw new ProcessError(`Cannot set daemon of '${this.name}' after start(); set it before.`);
    }
    this.#daemon = value;
  }

  /** The child's OS pid (the parent's own for a thread child); `null` before it runs. */
  get pid(): number | null {
    return this.#popen?.pid ?? null;
  }

  /** The pid for a process child, a thread id for a thread child; `null` before it runs. */
  get ident(): number | null {
    return this.#popen?.ident ?? null;
  }

  /**
   * `null` while running; 0 after a normal end; 1 when the target threw; `n` after `exit(n)`;
   * -15 after `terminate()`; -9 after `kill()`.
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * Starts the child. The promise resolves once the child runs; awaiting it is optional, and an
   * ignored rejection does not crash the program (`join()` rejects with the same error).
   */
  start(): Promise<void> {
    if (this.#closed) return quietReject(this.#closedError());
    if (this.#phase !== "new") {
      return quietReject(
        new ProcessError(
          `Cannot start process '${this.name}' twice: a process object runs once; create a new Process.`,
        ),
      );
    }
    this.#phase = "starting";
    active.add(this);
    this.#thread = this.#method === "thread" ? newThreadIdentity() : null;
    let resolveEnded!: () => void;
    this.#ended = new Promise<void>((r) => (resolveEnded = r));
    this.#started = keepAlive(this.#launch(resolveEnded));
    this.#ended = Promise.all([this.#started, this.#ended]).then(() => {});
    this.#ended.catch(() => {});
    this.#started.catch(() => {});
    return this.#started;
  }

  async #launch(resolveEnded: () => void): Promise<void> {
    const what = `Cannot start process '${this.name}'`;
    let boot: BootMessage;
    try {
      // Encoded now, as CPython pickles in start(): a Pipe end may be closed right after.
      let args: unknown[];
      const TARGET = "\u0000target\u0000"; // named once known (describeTarget is async)
      try {
        args = encodeArgs(
          this.#args,
          this.#method,
          (i) => `${what}: argument ${i} (args[${i}]) of '${TARGET}'`,
        );
      } catch (error) {
        const name = await describeTarget(this.#target);
        if (error instanceof Error) error.message = error.message.replace(TARGET, name);
        throw error;
      }
      const target = this.#hooks?.ref
        ?? await resolveTarget(this.#target, this.#module, this.#caller, what);
      const s = state();
      boot = {
        op: "boot",
        self: { name: this.name, pid: 0, ident: 0, daemon: this.#daemon },
        parent: s.self,
        identity: this.#identity,
        method: this.#method,
        target,
        args,
        argv: commandLine(),
        thread: this.#thread,
        shmTracker: trackerRef(this.#method),
      };
    } catch (error) {
      this.#phase = "failed";
      active.delete(this);
      if (this.#thread) endThread(this.#thread);
      throw error;
    }
    let ready!: () => void;
    let notFound!: (error: Error) => void;
    const running = new Promise<void>((resolve, reject) => (ready = resolve, notFound = reject));
    const popen = await launch(this.#method, {
      onMessage: (m) => {
        const op = (m as { op?: string })?.op;
        if (op === "ready") ready();
        else if (op === "notFound") notFound(new TypeError((m as NotFoundMessage).error.message));
        else this.#hooks?.onMessage(m);
      },
      daemon: this.#daemon,
    }, (p) => ({ ...boot, self: { ...boot.self, pid: p.pid, ident: p.ident } }));
    this.#popen = popen;
    this.#phase = "running";
    if (this.#daemon) {
      popen.unref();
      daemons.add(popen);
    }
    popen.exited.then((code) => {
      if (this.#thread) endThread(this.#thread);
      daemons.delete(popen);
      this.#exitCode = code;
      this.#phase = "exited";
      active.delete(this);
      ready();
      resolveEnded();
    });
    if (this.#pendingSignal) {
      if (this.#thread) endThread(this.#thread);
      popen[this.#pendingSignal]();
    }
    await running;
  }

  /**
   * Waits until the child has exited, or until `timeoutMs` has passed (then `exitCode` is still
   * `null`). Throws `ProcessError` before `start()`; rejects with `start()`'s error if it failed.
   */
  join(timeoutMs?: number): Promise<void> {
    this.#checkOpen();
    if (this.#phase === "new") {
      throw new ProcessError(
        `Cannot join process '${this.name}' before start(): call start() first.`,
      );
    }
    return keepAlive(withTimeout(this.#ended!, timeoutMs).then(() => {}));
  }

  /** True from `start()` until the child has exited. */
  isAlive(): boolean {
    this.#checkOpen();
    return this.#phase === "starting" || this.#phase === "running";
  }

  /** Ends the child as SIGTERM does; its `exitCode` becomes -15. */
  terminate(): void {
    this.#signal("terminate");
  }

  /** Ends the child as SIGKILL does; its `exitCode` becomes -9. */
  kill(): void {
    this.#signal("kill");
  }

  #signal(kind: "terminate" | "kill"): void {
    this.#checkOpen();
    if (this.#phase === "new") {
      throw new ProcessError(`Cannot ${kind} process '${this.name}' before start().`);
    }
    if (this.#popen) {
      if (this.#phase !== "running") return;
      // Its locks can be taken over now, and its own blocking calls see it must end.
      if (this.#thread) endThread(this.#thread);
      this.#popen[kind]();
    } else this.#pendingSignal ??= kind;
  }

  /** Releases the process object; throws if the child still runs. Later use throws. */
  close(): void {
    if (this.#phase === "starting" || this.#phase === "running") {
      throw new ProcessError(
        `Cannot close process '${this.name}' while it is running: join() or terminate() it first.`,
      );
    }
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): ProcessError {
    return new ProcessError(`Process '${this.name}' is closed: create a new Process.`);
  }

  /** @internal Settles when the child has exited, without keeping the program alive. */
  _exited(): Promise<void> {
    return this.#ended ?? Promise.reject(new ProcessError("not started"));
  }

  /** @internal Sends `message` to the child (for pool workers; see `ChildHooks`). */
  _send(message: unknown): void {
    this.#popen?.send(message);
  }

  /** @internal Whether the child keeps this program alive (pool workers are unref'd when idle). */
  _ref(on: boolean): void {
    if (on) this.#popen?.ref();
    else this.#popen?.unref();
  }

  /** @internal Children started in this isolate that have not exited. */
  static _active(): Process[] {
    return [...active];
  }
}

function quietReject(error: Error): Promise<never> {
  const p = Promise.reject(error);
  p.catch(() => {});
  return p;
}
