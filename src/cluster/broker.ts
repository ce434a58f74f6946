/**
 * The engine under the cluster: BullMQ on Redis (or Valkey), loaded on first use -- a program
 * that never makes a `ClusterExecutor` or runs `multiproc worker` never loads it. Only the few
 * calls the cluster makes are typed here.
 * @module
 */
import { BrokenProcessPool } from "../core/errors.ts";
import { runtime } from "../runtime/detect.ts";

/** A Redis connection as ioredis gives it (the events the cluster watches). */
export interface Redis {
  on(event: "close" | "ready" | "end", listener: () => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "message", listener: (channel: string, message: string) => void): this;
  once(event: "close", listener: () => void): this;
  off(event: "close", listener: () => void): this;
  publish(channel: string, message: string): Promise<number>;
  set(key: string, value: string | Uint8Array, ex: "EX", seconds: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  getBuffer(key: string): Promise<Uint8Array | null>;
  del(...keys: string[]): Promise<number>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<
    [string, string[]][]
  >;
  subscribe(channel: string): Promise<unknown>;
  duplicate(): Redis;
  quit(): Promise<unknown>;
  disconnect(): void;
  status: string;
}

/** A job as BullMQ hands it to a worker. */
export interface BullJob<D = unknown> {
  id?: string;
  name: string;
  data: D;
  /** How many times it was moved back to waiting after its worker died (BullMQ >= 5). */
  stalledCounter?: number;
  /** How many times a worker started it (BullMQ >= 5). */
  attemptsStarted?: number;
}

/** BullMQ's job options the cluster uses. */
export interface JobOptions {
  jobId?: string;
  attempts?: number;
  removeOnComplete?: boolean | { age?: number; count?: number };
  removeOnFail?: boolean | { age?: number; count?: number };
}

export interface BullQueue {
  addBulk(jobs: { name: string; data: unknown; opts?: JobOptions }[]): Promise<unknown[]>;
  remove(jobId: string): Promise<number>;
  getJobState(jobId: string): Promise<string>;
  getJob(jobId: string): Promise<{ returnvalue: unknown; failedReason?: string } | undefined>;
  getWaitingCount(): Promise<number>;
  on(event: "error", listener: (error: Error) => void): this;
  close(): Promise<void>;
}

export interface BullQueueEvents {
  on(event: "completed", listener: (e: { jobId: string; returnvalue: unknown }) => void): this;
  on(event: "failed", listener: (e: { jobId: string; failedReason: string }) => void): this;
  on(event: "active", listener: (e: { jobId: string }) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

export interface BullWorker {
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "stalled", listener: (jobId: string) => void): this;
  waitUntilReady(): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

/** Options of a BullMQ `Worker`. */
export interface WorkerOptions {
  connection: unknown;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

interface BullMQ {
  Queue: new(name: string, options: { connection: unknown }) => BullQueue;
  QueueEvents: new(
    name: string,
    options: { connection: unknown; lastEventId?: string },
  ) => BullQueueEvents;
  Worker: new(
    name: string,
    processor: (job: BullJob) => Promise<unknown>,
    options: WorkerOptions,
  ) => BullWorker;
}

type IORedis = new(url: string, options: Record<string, unknown>) => Redis;

/** BullMQ and ioredis, loaded once. */
export interface Broker {
  readonly bullmq: BullMQ;
  /** A connection to `url`: reconnects every <= 1 s while Redis is away. */
  connect(url: string, options?: { blocking?: boolean }): Redis;
}

let loaded: Promise<Broker> | undefined;

/** The message of an error, for a clause of another. */
const messageOf = (error: unknown): string => (error as Error | null)?.message ?? String(error);

/**
 * What to do when the cluster's packages are not installed (optional peer dependencies of the
 * package: a program without a cluster needs none of them).
 */
export function missingPackages(what: string, error: unknown): string {
  const deno = runtime === "deno"
    ? ` (on Deno: in the project's node_modules, or \`deno add npm:bullmq npm:ioredis `
      + `npm:msgpackr\` where the project has none)`
    : "";
  return `${what}: the cluster needs the packages bullmq, ioredis and msgpackr, and this project `
    + `lacks one (${messageOf(error)}): install them with \`npm install bullmq ioredis `
    + `msgpackr\`${deno}, or \`bun add bullmq ioredis msgpackr\` on Bun.`;
}

/**
 * Imports one of the cluster's packages (`name`: bullmq, ioredis or msgpackr) from the user's
 * installation. On Deno, first by its bare name, as node_modules has it (the library installed
 * there by npm runs as Node code, which cannot import `npm:` URLs), then as `npm:name` (Deno's
 * cache, or a project without node_modules); the error says what was tried.
 */
export async function importClusterPackage<T>(name: string): Promise<T> {
  if (runtime !== "deno") return await import(name) as T;
  try {
    return await import(name) as T;
  } catch (bare) {
    try {
      return await import(`npm:${name}`) as T;
    } catch (npm) {
      throw new Error(
        `cannot import '${name}': as '${name}' from node_modules (${messageOf(bare)}), then as `
          + `'npm:${name}' (${messageOf(npm)})`,
        { cause: npm },
      );
    }
  }
}

/** Loads the engine (from the user's installation: `bullmq` and `ioredis`, optional peers). */
export function loadBroker(what: string): Promise<Broker> {
  return loaded ??= (async () => {
    let bullmq: BullMQ, ioredis: { default?: IORedis; Redis?: IORedis };
    try {
      [bullmq, ioredis] = await Promise.all([
        importClusterPackage<BullMQ>("bullmq"),
        importClusterPackage<{ default?: IORedis; Redis?: IORedis }>("ioredis"),
      ]);
    } catch (error) {
      loaded = undefined;
      throw new Error(missingPackages(what, error), { cause: error });
    }
    const Redis = (ioredis.Redis ?? ioredis.default)!;
    return {
      bullmq,
      connect: (url, options = {}) =>
        new Redis(url, {
          // Workers and event readers block; BullMQ requires these unlimited there.
          maxRetriesPerRequest: options.blocking ? null : 20,
          retryStrategy: (times: number) => Math.min(100 * times, 1000),
        }),
    };
  })();
}

/** Checks a connection string: a `redis://` or `rediss://` URL. */
export function checkConnection(connection: unknown, what: string): string {
  if (typeof connection !== "string" || !/^rediss?:\/\/[^/]/.test(connection)) {
    throw new TypeError(
      `${what}: connection must be a Redis URL such as "redis://host:6379" (rediss:// for TLS), `
        + `got ${
          JSON.stringify(typeof connection === "string" ? safeUrl(connection) : connection)
        }`,
    );
  }
  return connection;
}

/** `url` with its password, if it has one, as `***`: for logs and error messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.href;
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/** Whether Redis's error `message` is a password refused or missing. */
const isAuthError = (message: string | undefined): boolean =>
  message !== undefined && /^(NOAUTH|WRONGPASS)/.test(message);

/** What to do about a connection to Redis that failed with `message` (its last error). */
export function connectionRemedy(message: string | undefined): string {
  if (isAuthError(message)) {
    return "put its password in the URL, redis://:PASSWORD@host:port "
      + "(redis://USER:PASSWORD@host:port for an ACL user)";
  }
  if (message && /certificate|CERT_|SSL|TLS/i.test(message)) {
    return "trust the authority that signed its certificate (NODE_EXTRA_CA_CERTS=ca.pem on Node "
      + "and Bun, DENO_CERT=ca.pem on Deno), or fix the URL's host to match the certificate";
  }
  return "check that Redis runs there and that this machine can reach it";
}

/**
 * The error for a first connection to Redis at `url` that failed (`error`): its password refused
 * or missing, its certificate not trusted, or Redis not reached; each says what to do.
 */
export function connectionFailed(error: unknown, url: string): Error {
  const message = (error as Error)?.message ?? String(error);
  const what = isAuthError(message) ? "refused the connection" : "could not be reached";
  return new Error(
    `Redis at ${safeUrl(url)} ${what} (${message}): ${connectionRemedy(message)}.`,
    { cause: error },
  );
}

/**
 * The error of jobs that Redis at `url` refused (`error`: out of memory, say), which fails every
 * pending task of the executor (`what`), saying what to do.
 */
export function jobsRefused(error: unknown, url: string, what: string): BrokenProcessPool {
  const message = (error as Error)?.message ?? String(error);
  const remedy = /^OOM\b/.test(message)
    ? "Redis is out of memory: raise its maxmemory, or keep less there (fewer jobs waiting: "
      + "maxWaiting; smaller arguments and results: maxTaskBytes)"
    : connectionRemedy(message);
  return new BrokenProcessPool(
    `${what}: Redis at ${safeUrl(url)} refused the jobs sent to it (${message}); every pending `
      + `task failed: ${remedy}, then make a new executor.`,
    { cause: error },
  );
}

/**
 * Ends connection `r`: politely (QUIT) when it is up, at once when it is not -- a QUIT queued on a
 * connection that is away would keep it reconnecting, and the program alive, until Redis is back.
 */
export async function hangUp(r: Redis): Promise<void> {
  if (r.status === "ready") await r.quit().catch(() => r.disconnect());
  else r.disconnect();
}

/**
 * Waits for `closing` (a BullMQ close: it waits for its connections to be ready) unless Redis is
 * away -- one of `connections` not ready -- once `idle` has resolved: then resolves false without
 * it (a Redis that is away would keep it waiting); true once `closing` has settled.
 */
export async function closeUnlessAway(
  closing: Promise<unknown>,
  connections: Redis[],
  idle: Promise<void> = Promise.resolve(),
): Promise<boolean> {
  let settled = false;
  let stopWatching = () => {};
  const away = idle.then(() =>
    new Promise<false>((resolve) => {
      if (settled) return; // closed meanwhile: nothing to watch
      const gone = () => resolve(false);
      if (connections.some((r) => r.status !== "ready")) return gone();
      for (const r of connections) r.once("close", gone);
      stopWatching = () => connections.forEach((r) => r.off("close", gone));
    })
  );
  try {
    return await Promise.race([closing.then(() => true, () => true), away]);
  } finally {
    settled = true;
    stopWatching();
  }
}
