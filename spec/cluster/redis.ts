/**
 * A real `redis-server` for the cluster spec (Debian's package): on a free loopback port, its
 * data in a temporary directory (append-only, so a restart keeps the queue), stopped at the end.
 * And `multiproc worker` processes started from the source, on the runtime running the spec.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/free_port.mjs";
import { nodeLoaderArgs, RUNTIME, tempDir } from "../helpers.ts";

/** Whether this machine has `redis-server` (else the cluster lane is skipped). */
export function haveRedis(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

/** Lines a child printed, and a wait for one that matches. */
class Lines {
  readonly all: string[] = [];
  #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  feed(text: string): void {
    for (const line of text.split("\n")) {
      if (!line) continue;
      this.all.push(line);
      this.#waiters = this.#waiters.filter((w) => !(w.re.test(line) && (w.resolve(line), true)));
    }
  }
  /** Resolves with the first line (printed already or to come) matching `re`. */
  wait(re: RegExp, ms: number, what: string): Promise<string> {
    const seen = this.all.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${what}: no line matching ${re} in ${ms} ms:\n${this.all.join("\n")}`)),
        ms,
      );
      this.#waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}

/** Each started child's exit (see `exited`). */
const exits = new WeakMap<ChildProcess, Promise<void>>();

function started(
  cmd: string,
  args: string[],
  lines: Lines,
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  child.stdout!.on("data", (d) => lines.feed(String(d)));
  child.stderr!.on("data", (d) => lines.feed(String(d)));
  exits.set(child, new Promise<void>((r) => child.once("exit", () => r())));
  return child;
}

/**
 * Resolves once `child` has exited, from its "exit" event (watched since it was started): Deno's
 * `kill()` sets `signalCode` at once, before a child that handles the signal has ended.
 */
const exited = (child: ChildProcess): Promise<void> => exits.get(child)!;

/** How a spec's redis-server is reached: over TLS with these files, and with a password. */
export interface RedisOptions {
  /** Its certificate and key, and the CA's certificate: it listens over TLS only (`rediss://`). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** The default user's password (`--requirepass`: kept across a restart, unlike an ACL user). */
  readonly password?: string;
}

/** A redis-server of the spec's own. */
export class RedisServer {
  readonly port: number;
  readonly dir = tempDir();
  readonly lines = new Lines();
  readonly #options: RedisOptions;
  #child: ChildProcess | undefined;

  private constructor(port: number, options: RedisOptions) {
    this.port = port;
    this.#options = options;
  }

  /** Its URL (with the password, if it has one). */
  get url(): string {
    const { tls, password } = this.#options;
    const auth = password === undefined ? "" : `:${password}@`;
    return `${tls ? "rediss" : "redis"}://${auth}127.0.0.1:${this.port}`;
  }

  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options);
    await server.restart();
    return server;
  }

  /** Starts it (again, on the same port and data). */
  async restart(): Promise<void> {
    const { tls, password } = this.#options;
    const port = String(this.port);
    this.#child = started("redis-server", [
      ...(tls
        ? ["--port", "0", "--tls-port", port, "--tls-auth-clients", "no"]
        : ["--port", port]),
      ...(tls ? ["--tls-cert-file", tls.cert, "--tls-key-file", tls.key] : []),
      ...(tls ? ["--tls-ca-cert-file", tls.ca] : []),
      ...(password === undefined ? [] : ["--requirepass", password]),
      ...["--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--protected-mode", "no"],
      ...["--appendonly", "yes", "--appendfsync", "always"],
    ], this.lines);
    const n = this.lines.all.filter((l) => /Ready to accept connections/.test(l)).length;
    const deadline = Date.now() + 10_000;
    while (this.lines.all.filter((l) => /Ready to accept connections/.test(l)).length === n) {
      if (Date.now() > deadline) {
        throw new Error(`redis-server did not start:\n${this.lines.all.join("\n")}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** A URL for a new ACL user of this server, `user` with password `secret`, allowed everything. */
  async addUser(user: string, secret: string): Promise<string> {
    await this.command("ACL", "SETUSER", user, "on", `>${secret}`, "~*", "&*", "+@all");
    return `redis://${user}:${secret}@127.0.0.1:${this.port}`;
  }

  /** Runs one Redis command on this server (`CONFIG`, `ACL`, ...); resolves with its reply. */
  async command(...args: string[]): Promise<unknown> {
    const { default: IORedis } = await import("ioredis") as unknown as {
      default: new(url: string) => {
        call(...args: string[]): Promise<unknown>;
        quit(): Promise<unknown>;
      };
    };
    const admin = new IORedis(this.url);
    try {
      return await admin.call(...args);
    } finally {
      await admin.quit();
    }
  }

  /** Kills it (SIGKILL, as a crash). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill("SIGKILL");
    await exited(child);
    this.#child = undefined;
  }
}

/** A runtime a worker runs on: the spec's, or Deno or Bun from the devDependencies. */
export type WorkerRuntime = typeof RUNTIME | "deno" | "bun";

/** A `multiproc worker` process, from the source, on the spec's runtime (or `runtime`). */
export class ClusterWorkerProcess {
  readonly lines = new Lines();
  readonly child: ChildProcess;

  /** `env`: its environment (the spec's by default). */
  constructor(args: string[], runtime: WorkerRuntime = RUNTIME, env?: NodeJS.ProcessEnv) {
    const cli = fileURLToPath(new URL("../../src/entry/cli.ts", import.meta.url));
    const pre = runtime === "deno" ? ["run", "-A"] : runtime === "node" ? nodeLoaderArgs() : [];
    const bin = runtime === RUNTIME
      ? process.execPath
      : fileURLToPath(new URL(`../../node_modules/.bin/${runtime}`, import.meta.url));
    this.child = started(bin, [...pre, cli, ...args], this.lines, env);
  }

  /** The arguments of `multiproc worker` on `queue` at `url` with `root`, then `extra`. */
  static argv(url: string, queue: string, root: string, extra: string[] = []): string[] {
    return ["worker", "--connection", url, "--queue", queue, "--root", root, ...extra];
  }

  /** Starts a worker on `queue` and waits until it is connected. */
  static async start(
    url: string,
    queue: string,
    root: string,
    extra: string[] = [],
    runtime: WorkerRuntime = RUNTIME,
  ): Promise<ClusterWorkerProcess> {
    const w = new ClusterWorkerProcess(
      ClusterWorkerProcess.argv(url, queue, root, [
        "--concurrency",
        "2",
        "--lock-duration",
        "2000",
        ...extra,
      ]),
      runtime,
    );
    await w.lines.wait(/^connected: /, 60_000, "multiproc worker");
    return w;
  }

  /** Asks it to stop (SIGTERM: its running jobs finish) and waits for its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await exited(this.child);
  }

  /** Kills it at once (SIGKILL, as a machine lost). */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await exited(this.child);
  }
}

/**
 * The cluster of one spec file: a redis-server started before its tests, and stopped after them
 * with every `multiproc worker` started through `workers()`. Each `queue()` is a new queue name
 * (each test its own, so that none sees another's jobs).
 */
export function clusterFixture(prefix: string) {
  let redis: RedisServer | undefined;
  const started: ClusterWorkerProcess[] = [];
  let n = 0;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await Promise.all(started.map((w) => w.stop()));
    await redis?.kill();
  });
  return {
    /** The server (started by the time a test runs). */
    get redis(): RedisServer {
      return redis!;
    },
    queue: (): string => `${prefix}-${process.pid}-${++n}`,
    /** `count` workers on `queue` with `root` and `flags` (on `runtime`), once connected. */
    async workers(
      queue: string,
      count: number,
      root: string,
      flags: string[] = [],
      runtime: WorkerRuntime = RUNTIME,
    ): Promise<ClusterWorkerProcess[]> {
      const ws = await Promise.all(
        Array.from(
          { length: count },
          () => ClusterWorkerProcess.start(redis!.url, queue, root, flags, runtime),
        ),
      );
      started.push(...ws);
      return ws;
    },
  };
}
