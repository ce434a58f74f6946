#!/usr/bin/env node
/**
 * The `multiproc` command. `multiproc worker --connection URL --queue NAME --root DIR
 * [--concurrency N] [--processes N] [--method thread|process|forkserver] [--lock-duration MS]
 * [--max-stalled N]` (the URL may come from MULTIPROC_CONNECTION instead)
 * runs a cluster worker until SIGINT or SIGTERM, then lets its running jobs finish.
 * @module
 */
import { runClusterWorker } from "../cluster/worker.ts";
import { START_METHODS, type StartMethod } from "../core/start_method.ts";
import { cpuCount } from "../process/current.ts";
import { envVar, exitNow, mainScript } from "../runtime/host.ts";
import { onStopSignal } from "../runtime/os.ts";

/** The environment variable a worker's connection may come from instead of --connection. */
const CONNECTION_VARIABLE = "MULTIPROC_CONNECTION";

/** How the worker's errors begin. */
const WHAT = "multiproc worker";

const USAGE = `usage: multiproc worker --connection redis://host:port --queue NAME --root DIR
                        [--concurrency N] [--processes N] [--method thread|process|forkserver]
                        [--lock-duration MS] [--max-stalled N]
       multiproc --help

The URL may come from the environment instead: MULTIPROC_CONNECTION=redis://user:pass@host:port
keeps a password out of the process list, where --connection shows it.

Runs the tasks a ClusterExecutor sends to queue NAME, N at a time (default: the cores), each
alone in a child of a local pool (default "process"), so that each can be stopped alone; the
tasks known to be quick (under 2 ms) go to one child kept for them, several at once. Beside it,
the pool has at most --processes children (default: as many as --concurrency; fewer for
CPU-bound tasks): as many as the cores (and the quick one) start at once, more only while tasks
wait and none finished for 50 ms; with --processes 1, quick tasks share that child. DIR
is the project's root, checked out the same as on the clients: modules are imported from there
only. A job whose worker dies is redelivered after its lock (--lock-duration, default 30000 ms,
at least 1000) expires, at most --max-stalled times (default 2). Tasks in TypeScript modules
need Node 22.18 or later, Bun or Deno, or tsx:
NODE_OPTIONS='--import tsx' npx multiproc worker ...`;

/** The connection given in the environment (MULTIPROC_CONNECTION), else an error saying how. */
function connectionFromEnv(): string {
  const url = envVar(CONNECTION_VARIABLE);
  if (!url) {
    throw new Error(`--connection is required (or set ${CONNECTION_VARIABLE} to the Redis URL)`);
  }
  return url;
}

/** Whether `args` ask for the usage (`--help` or `-h`, with or without the command). */
function wantsHelp(args: string[]): boolean {
  return args.some((a) => a === "--help" || a === "-h");
}

/** The shortest lock a job may have (ms): renewed at half of it, a shorter one is lost at once. */
const MIN_LOCK_MS = 1000;

/** Parses `worker` flags; throws an error that says what is wrong. */
function parse(args: string[]) {
  const [command, ...rest] = args;
  if (command !== "worker") {
    throw new Error(command ? `unknown command '${command}'` : "no command given");
  }
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(rest[i]);
    if (!m) throw new Error(`unexpected argument '${rest[i]}'`);
    const value = m[2] ?? rest[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    flags.set(m[1], value);
  }
  const known = [
    "connection",
    "queue",
    "root",
    "concurrency",
    "processes",
    "method",
    "lock-duration",
    "max-stalled",
  ];
  for (const name of flags.keys()) {
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
  }
  const need = (name: string) => {
    const v = flags.get(name);
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  const count = (name: string, fallback: number) => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`--${name} must be a whole number, got '${v}'`);
    }
    return n;
  };
  const method = flags.get("method") ?? "process";
  if (!(START_METHODS as readonly string[]).includes(method)) {
    throw new Error(`--method must be one of ${START_METHODS.join(", ")}, got '${method}'`);
  }
  const concurrency = count("concurrency", cpuCount());
  if (concurrency < 1) throw new Error("--concurrency must be at least 1");
  const processes = count("processes", concurrency);
  if (processes < 1) throw new Error("--processes must be at least 1");
  const lockDuration = count("lock-duration", 30_000);
  if (lockDuration < MIN_LOCK_MS) {
    throw new Error(
      `--lock-duration must be at least ${MIN_LOCK_MS} (ms), got ${lockDuration}: a job's lock is `
        + `renewed every half of it, and a job whose lock expires is given to another worker`,
    );
  }
  return {
    connection: flags.get("connection") || connectionFromEnv(),
    queue: need("queue"),
    root: need("root"),
    concurrency,
    processes,
    method: method as StartMethod,
    lockDuration,
    maxStalledCount: count("max-stalled", 2),
  };
}

const args = mainScript().args;
if (wantsHelp(args)) {
  console.log(USAGE);
  exitNow(0);
}
let options: ReturnType<typeof parse>;
try {
  options = parse(args);
} catch (error) {
  console.error(`multiproc: ${(error as Error).message}\n\n${USAGE}`);
  exitNow(2);
}
try {
  const worker = await runClusterWorker(options);
  let stopping = false;
  onStopSignal((signal) => {
    if (stopping) exitNow(1); // a second signal: now
    stopping = true;
    console.log(`${signal}: finishing the running jobs (again to stop at once)`);
    worker.close().then(() => exitNow(0), () => exitNow(1));
  });
} catch (error) {
  // The worker's errors mostly name it already ("multiproc worker: root ..."): said once.
  const message = String((error as Error)?.message ?? error);
  console.error(message.startsWith(WHAT) ? message : `${WHAT}: ${message}`);
  exitNow(1);
}
