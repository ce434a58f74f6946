/**
 * The one launcher of children, under both `Process` (the public face) and the pool's workers:
 * start a thread or OS process, boot it with its target and arguments, hear its messages, know
 * when it exits and how, end it on request.
 * @module
 */
import { ProcessError } from "../core/errors.ts";
import type { StartMethod } from "../core/start_method.ts";
import { trackerRef } from "../memory/tracker.ts";
import { commandLine } from "../runtime/argv.ts";
import { currentDir } from "../runtime/host.ts";
import { onProcessExit } from "../runtime/os.ts";
import { launch, type Popen, sendOrKill } from "../runtime/popen.ts";
import { testGlobalsInUse } from "../runtime/test_globals.ts";
import { refuseStartWhileBootstrapping, state } from "../state/state.ts";
import { endThread, newThreadIdentity, stopThread, type ThreadIdentity } from "../sync/owner.ts";
import type { TargetRef } from "../targets/task.ts";
import type { BootMessage, NotFoundMessage } from "./protocol.ts";
import { fillSpares, takeSpare } from "./spares.ts";

/** Who a child is, fixed when it starts. */
export interface ChildSpec {
  readonly method: StartMethod;
  readonly name: string;
  /** A daemon child is ended when this process exits, and does not keep it alive. */
  readonly daemon: boolean;
  /** Its place in the tree of children (`_identity` in CPython). */
  readonly identity: readonly number[];
  /** Called with each message the child sends besides the launcher's own. */
  readonly onMessage?: (message: unknown) => void;
}

/** What the child runs: its target, found, and its arguments, encoded for its start method. */
export interface ChildWork {
  readonly target: TargetRef;
  readonly args: unknown[];
}

type Phase = "new" | "starting" | "running" | "exited" | "failed";

/** Children started from this isolate and not yet known to have exited. */
const active = new Set<Child>();

/** Daemon children still running: ended when this process exits. */
const daemons = new Set<Popen>();
onProcessExit(() => daemons.forEach((popen) => popen.kill()));

/** The identity of the next child of this process. */
export function nextIdentity(): number[] {
  const s = state();
  return [...s.identity, ++s.childCounter];
}

/** A child: started once, then running, then exited (or failed to start). */
export class Child {
  readonly spec: ChildSpec;
  /** The public object for this child, if one was made (see `Process`). */
  face: unknown;
  #phase: Phase = "new";
  #popen: Popen | undefined;
  #exitCode: number | null = null;
  #pendingSignal: "terminate" | "kill" | undefined;
  #ended: Promise<void> | undefined;
  /** A thread child's slot in this process's thread table: cleared when it is ended. */
  #thread: ThreadIdentity | null = null;

  constructor(spec: ChildSpec) {
    this.spec = spec;
  }

  /** The children started from this isolate that have not exited. */
  static active(): Child[] {
    return [...active];
  }

  get pid(): number | null {
    return this.#popen?.pid ?? null;
  }

  get ident(): number | null {
    return this.#popen?.ident ?? null;
  }

  get exitCode(): number | null {
    return this.#exitCode;
  }

  get started(): boolean {
    return this.#phase !== "new";
  }

  /** From `start()` until the child has exited. */
  get alive(): boolean {
    return this.#phase === "starting" || this.#phase === "running";
  }

  /**
   * Starts the child with what `prepare` gives (it may reject: the start fails with its error).
   * Resolves once the child runs its target; rejects if it could not start or find it. When
   * `prepare` answers at once (not with a promise), the child is launched before this returns.
   */
  start(prepare: () => ChildWork | Promise<ChildWork>): Promise<void> {
    if (this.#phase !== "new") throw new ProcessError(`'${this.spec.name}' was already started`);
    this.#phase = "starting";
    active.add(this);
    this.#thread = this.spec.method === "thread" ? newThreadIdentity() : null;
    let resolveEnded!: () => void;
    const exited = new Promise<void>((r) => (resolveEnded = r));
    let started: Promise<void>;
    try {
      const work = prepare();
      started = work instanceof Promise
        ? work.then((w) => this.#launchOrFail(w, resolveEnded), (error) => this.#failed(error))
        : this.#launchOrFail(work, resolveEnded);
    } catch (error) {
      started = this.#failed(error);
    }
    this.#ended = Promise.all([started, exited]).then(() => {});
    this.#ended.catch(() => {});
    return started;
  }

  /** Settles when the child has exited (rejects if it could not start), keeping nothing alive. */
  get ended(): Promise<void> {
    return this.#ended ?? Promise.reject(new ProcessError(`'${this.spec.name}' is not started`));
  }

  /** The start failed with `error`: rejects with it. */
  #failed(error: unknown): Promise<never> {
    this.#phase = "failed";
    active.delete(this);
    if (this.#thread) endThread(this.#thread);
    return Promise.reject(error);
  }

  /** `#launch`, its errors (the shared-memory registry, a spawn) failing the start. */
  #launchOrFail(work: ChildWork, resolveEnded: () => void): Promise<void> {
    try {
      return this.#launch(work, resolveEnded);
    } catch (error) {
      return this.#failed(error);
    }
  }

  /** Launches the child with its work: at once, unless it must wait for a spare. */
  #launch({ target, args }: ChildWork, resolveEnded: () => void): Promise<void> {
    const { method, name, daemon, identity } = this.spec;
    refuseStartWhileBootstrapping(`Cannot start '${name}'`);
    const boot: Omit<BootMessage, "shmTracker"> = {
      op: "boot",
      self: { name, pid: 0, ident: 0, daemon },
      parent: state().self,
      identity: [...identity],
      method,
      target,
      args,
      argv: commandLine(),
      dir: currentDir(),
      thread: this.#thread,
      testGlobals: testGlobalsInUse(),
    };
    let ready!: () => void;
    let notFound!: (error: Error) => void;
    const running = new Promise<void>((resolve, reject) => (ready = resolve, notFound = reject));
    const onMessage = (m: unknown) => {
      const op = (m as { op?: string })?.op;
      if (op === "ready") ready();
      else if (op === "notFound") notFound(new TypeError((m as NotFoundMessage).error.message));
      else this.spec.onMessage?.(m);
    };
    // The shared-memory registry is asked for once the child is launched: made for a first
    // process child (on Node, loading koffi: ~10 ms), it is made while that child boots.
    const bootFor = (p: Popen): BootMessage => ({
      ...boot,
      self: { ...boot.self, pid: p.pid, ident: p.ident },
      shmTracker: trackerRef(method),
    });
    if (method === "forkserver") {
      // A spare booted ahead: it gets its boot now, and keeps the program alive unless a daemon.
      return takeSpare(onMessage).then(({ popen, env }) => {
        try {
          sendOrKill(popen, (p) => ({ ...bootFor(p), env }));
        } catch (error) {
          return this.#failed(error);
        }
        // The spare taken is replaced once the child runs, and outside `start()`: a spawn
        // meanwhile would hold up this thread (Node and Bun spawn synchronously) and the reply.
        const refill = () => void setTimeout(fillSpares, 0);
        running.then(refill, refill);
        if (!daemon) popen.ref();
        return this.#run(popen, running, ready, resolveEnded);
      }, (error) => this.#failed(error));
    }
    const popen = launch(method, { onMessage, daemon }, bootFor);
    return this.#run(popen, running, ready, resolveEnded);
  }

  /**
   * The child is launched as `popen`: it runs once `running` resolves (`ready` resolves it, also
   * when the child ends before it says it runs).
   */
  #run(
    popen: Popen,
    running: Promise<void>,
    ready: () => void,
    resolveEnded: () => void,
  ): Promise<void> {
    const { daemon } = this.spec;
    this.#popen = popen;
    this.#phase = "running";
    if (daemon) {
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
      if (this.#thread) stopThread(this.#thread);
      popen[this.#pendingSignal]();
    }
    return running;
  }

  /** Ends the child as SIGTERM (`"terminate"`) or SIGKILL (`"kill"`) does; once it runs. */
  signal(kind: "terminate" | "kill"): void {
    if (this.#popen) {
      if (this.#phase !== "running") return;
      // Its own blocking calls see it must end; its locks can be taken once it has (exited).
      if (this.#thread) stopThread(this.#thread);
      this.#popen[kind]();
    } else if (this.#phase === "starting") this.#pendingSignal ??= kind;
  }

  /** Whether its channel walks every array and object sent (`Popen.walksMessages`). */
  get walksMessages(): boolean {
    return this.#popen?.walksMessages ?? false;
  }

  /** Sends `message` to the running child. */
  send(message: unknown): void {
    this.#popen?.send(message);
  }

  /** Whether the child keeps this program alive. */
  ref(on: boolean): void {
    if (on) this.#popen?.ref();
    else this.#popen?.unref();
  }
}
