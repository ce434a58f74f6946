/**
 * `Process`: runs an exported function in a child (a thread or an OS process), as CPython's
 * `multiprocessing.Process`.
 * @module
 */
import { ProcessError } from "../core/errors.ts";
import { shownAsText } from "../core/inspect.ts";
import { keepAlive } from "../core/keep_alive.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import { READY } from "../core/ready.ts";
import { withTimeout } from "../core/sleep.ts";
import type { StartMethod } from "../core/start_method.ts";
import { noteStarting } from "../core/starting.ts";
import { encodeArgs } from "../handles/encoding.ts";
import { methodOf } from "../handles/handle.ts";
import { type Caller, callerOf } from "../targets/callsite.ts";
import {
  checkModuleOption,
  describeTarget,
  resolveTarget,
  type TargetRef,
} from "../targets/task.ts";
import { Child, nextIdentity } from "./child.ts";

/**
 * @internal The child's end, as a promise that holds nothing open (`join()` keeps the program
 * alive while it waits; a daemon's owner that only watches for an early end must not).
 */
export const ENDED: unique symbol = Symbol("multiproc.processEnded") as never;

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

const PROCESS_OPTIONS = {
  target: true,
  args: true,
  name: true,
  daemon: true,
  module: true,
} as const satisfies OptionNames<ProcessOptions>;

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
  readonly #target: ((...args: never[]) => unknown) | undefined;
  readonly #args: readonly unknown[];
  readonly #module: string | URL | undefined;
  /** The module that made this process (none for the `Process` of a running child). */
  readonly #caller: Caller = () => undefined;
  readonly #method: StartMethod;
  readonly #identity: readonly number[];
  #closed = false;
  #child: Child | undefined;

  constructor(options: ProcessOptions<A>);
  /** @internal The public face of a child the library started itself (a pool worker). */
  constructor(child: Child);
  constructor(a: ProcessOptions<A> | Child) {
    if (a instanceof Child) {
      this.#child = a;
      a.face = this;
      this.name = a.spec.name;
      this.#daemon = a.spec.daemon;
      this.#method = a.spec.method;
      this.#identity = a.spec.identity;
      this.#args = [];
      return;
    }
    const example = "{ target, args: [1] }";
    if (a === undefined) {
      throw new TypeError(`new Process(): options must be an object such as ${example}, got none`);
    }
    const options = checkOptions(a, PROCESS_OPTIONS, "new Process()", example);
    this.#identity = nextIdentity();
    if (options.name !== undefined && typeof options.name !== "string") {
      throw new TypeError(`new Process(): name must be a string, got ${shown(options.name)}`);
    }
    this.name = options.name ?? `Process-${this.#identity.join(":")}`;
    this.#daemon = checkDaemon(options.daemon ?? false, this.name);
    this.#target = options.target as (...args: never[]) => unknown;
    this.#args = options.args ?? [];
    if (!Array.isArray(this.#args)) {
      throw new TypeError(
        `Process '${this.name}': args must be an array, got ${shown(options.args)}`,
      );
    }
    this.#module = checkModuleOption(options.module, `Process '${this.name}'`);
    this.#caller = callerOf();
    this.#method = methodOf(new.target);
  }

  /** Whether the child ends when the main process exits; settable until `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#child) {
      throw new ProcessError(`Cannot set daemon of '${this.name}' after start(); set it before.`);
    }
    this.#daemon = checkDaemon(value, this.name);
  }

  /** The child's OS pid (the parent's own for a thread child); `null` before it runs. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The pid for a process child, a thread id for a thread child; `null` before it runs. */
  get ident(): number | null {
    return this.#child?.ident ?? null;
  }

  /**
   * `null` while running; 0 after a normal end; 1 when the target threw; `n` after `exit(n)`;
   * -15 after `terminate()`; -9 after `kill()`.
   */
  get exitCode(): number | null {
    return this.#child?.exitCode ?? null;
  }

  /**
   * Starts the child. The promise resolves once the child runs; awaiting it is optional, and an
   * ignored rejection does not crash the program (`join()` rejects with the same error).
   */
  start(): Promise<void> {
    if (this.#closed) return quietReject(this.#closedError());
    if (this.#child) {
      return quietReject(
        new ProcessError(
          `Cannot start process '${this.name}' twice: a process object runs once; create a new Process.`,
        ),
      );
    }
    const child = this.#child = new Child({
      method: this.#method,
      name: this.name,
      daemon: this.#daemon,
      identity: this.#identity,
    });
    child.face = this;
    const started = keepAlive(child.start(() => this.#prepare()));
    started.catch(() => {});
    noteStarting(this.name, started);
    return started;
  }

  /** The target, found, and the arguments, encoded now as CPython pickles in start(). */
  async #prepare(): Promise<{ target: TargetRef; args: unknown[] }> {
    const what = `Cannot start process '${this.name}'`;
    const TARGET = "\u0000target\u0000"; // named once known (describeTarget is async)
    let args: unknown[];
    try {
      args = encodeArgs(
        this.#args,
        this.#method,
        (i) => `${what}: argument ${i} (args[${i}]) of '${TARGET}'`,
      );
    } catch (error) {
      const name = await describeTarget(this.#target!);
      if (error instanceof Error) error.message = error.message.replace(TARGET, name);
      throw error;
    }
    return { target: await resolveTarget(this.#target!, this.#module, this.#caller, what), args };
  }

  /**
   * Waits until the child has exited, or until `timeoutMs` has passed (then `exitCode` is still
   * `null`). Throws `ProcessError` before `start()`; rejects with `start()`'s error if it failed.
   */
  join(timeoutMs?: number): Promise<void> {
    this.#checkOpen();
    if (!this.#child) {
      throw new ProcessError(
        `Cannot join process '${this.name}' before start(): call start() first.`,
      );
    }
    return keepAlive(withTimeout(this.#child.ended, timeoutMs, "Process.join()").then(() => {}));
  }

  /** @internal Settles when the child has ended, keeping nothing alive; after `start()`. */
  [ENDED](): Promise<void> {
    if (!this.#child) {
      throw new ProcessError(`Process '${this.name}' has not started: call start() first.`);
    }
    return this.#child.ended;
  }

  /** For `connectionWait` (CPython waits on `p.sentinel`): the child has exited. */
  async [READY](timeoutMs: number): Promise<boolean> {
    if (!this.#child) {
      throw new ProcessError(
        `connectionWait(): process '${this.name}' has not started: call start() first.`,
      );
    }
    await this.join(timeoutMs).catch(() => {});
    return !this.#child.alive;
  }

  /** As CPython's repr, for `console.log`: `<Process name='P' pid=123 started daemon>`. */
  toString(): string {
    const child = this.#child;
    const parts = [`name='${this.name}'`];
    if (child?.pid != null && !this.#closed) parts.push(`pid=${child.pid}`);
    if (this.#closed) parts.push("closed");
    else if (!child) parts.push("initial");
    else if (child.exitCode === null) parts.push("started");
    else parts.push(`stopped exitcode=${child.exitCode}`);
    if (this.#daemon) parts.push("daemon");
    return `<${this.constructor.name} ${parts.join(" ")}>`;
  }

  /** True from `start()` until the child has exited. */
  isAlive(): boolean {
    this.#checkOpen();
    return this.#child?.alive ?? false;
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
    if (!this.#child) {
      throw new ProcessError(`Cannot ${kind} process '${this.name}' before start().`);
    }
    this.#child.signal(kind);
  }

  /** Releases the process object; throws if the child still runs. Later use throws. */
  close(): void {
    if (this.#child?.alive) {
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
}

shownAsText(Process);

/** The children started from this isolate that have not exited (pool workers too). */
export function activeProcesses(): Process[] {
  return Child.active().map((child) =>
    child.face instanceof Process ? child.face : new Process(child)
  );
}

function quietReject(error: Error): Promise<never> {
  const p = Promise.reject(error);
  p.catch(() => {});
  return p;
}

/** Checks a `daemon` flag of the process named `name`: a boolean. */
function checkDaemon(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`Process '${name}': daemon must be true or false, got ${shown(value)}`);
  }
  return value;
}
