/**
 * A `ClusterExecutor`'s connection to Redis: its BullMQ queue, the queue's events (read from the
 * stream's position before the first job is added), the stop channel to the workers, and a watch
 * that tells the executor when Redis has been away too long or is back.
 * @module
 */
import {
  type Broker,
  type BullQueue,
  type BullQueueEvents,
  closeUnlessAway,
  hangUp,
  type Redis,
} from "./broker.ts";
import type { Codec, Packed } from "./codec.ts";
import { taskName } from "./naming.ts";
import {
  type SideRef,
  STOP_TTL_S,
  stopChannel,
  stopKey,
  type TaskData,
  type TaskResult,
} from "./protocol.ts";

/** The events a connection reports to its executor. */
export interface Listener {
  onResult(id: string, result: TaskResult): void;
  onLost(id: string, reason: string): void;
  onActive(id: string): void;
  /** Redis unreachable past the limit; `reason`: the connection's last error, if any. */
  onUnreachable(reason: string | undefined): void;
  onReconnected(): void;
  unreachableMs: number;
}

/** An executor's connection: its queue, its queue's events, and a watch on Redis. */
export class Connected {
  readonly codec: Codec;
  readonly #queue: BullQueue;
  #events: BullQueueEvents | undefined;
  readonly #broker: Broker;
  readonly #queueName: string;
  readonly #listener: Listener;
  readonly #redis: Redis;
  readonly #eventsRedis: Redis;
  readonly #channel: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #away = false;
  #closed = false;
  #lastError: Error | undefined;

  constructor(broker: Broker, codec: Codec, url: string, queue: string, l: Listener) {
    this.codec = codec;
    this.#broker = broker;
    this.#queueName = queue;
    this.#listener = l;
    this.#channel = stopChannel(queue);
    this.#redis = broker.connect(url);
    this.#eventsRedis = broker.connect(url, { blocking: true });
    this.#queue = new broker.bullmq.Queue(queue, { connection: this.#redis });
    this.#queue.on("error", () => {}); // the watch below reports what matters
    for (const r of [this.#redis, this.#eventsRedis]) {
      r.on("error", (error: Error) => this.#lastError = error); // why it is away, if it is
    }
    // Unreachable for longer than the limit: the executor fails its tasks.
    this.#redis.on("close", () => {
      if (this.#closed) return;
      this.#away = true;
      this.#timer ??= setTimeout(
        () => this.#closed || l.onUnreachable(this.#lastError?.message),
        l.unreachableMs,
      );
    });
    this.#redis.on("ready", () => {
      this.#lastError = undefined;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#away) l.onReconnected();
      this.#away = false;
    });
  }

  /**
   * Resolves once both connections are up (rejects if Redis cannot be reached). The events are
   * read from the stream's position now, before any job is added: a job that ends before the
   * reader's first read is still heard.
   */
  async ready(): Promise<void> {
    try {
      await this.#open();
    } catch (error) {
      // "Reached the max retries" says less than the error each retry met (a certificate refused).
      throw this.#lastError ?? error;
    }
  }

  async #open(): Promise<void> {
    const key = `bull:${this.#queueName}:events`;
    const [last] = await this.#redis.xrevrange(key, "+", "-", "COUNT", 1);
    // Closed meanwhile: no reader made after close() (nothing would close it).
    if (this.#closed) throw new Error("the connection was closed while it was being opened");
    const l = this.#listener;
    const events = new this.#broker.bullmq.QueueEvents(this.#queueName, {
      connection: this.#eventsRedis,
      lastEventId: last?.[0] ?? "0-0",
    });
    this.#events = events;
    events.on("error", () => {});
    events.on("completed", (e) => l.onResult(e.jobId, parseResult(e.returnvalue)));
    events.on("failed", (e) => l.onLost(e.jobId, e.failedReason));
    events.on("active", (e) => l.onActive(e.jobId));
    await events.waitUntilReady();
  }

  add(jobs: { id: string; data: TaskData }[]): Promise<unknown> {
    return this.#queue.addBulk(jobs.map(({ id, data }) => ({
      name: taskName(data.ref),
      data,
      opts: {
        jobId: id,
        attempts: 1,
        removeOnComplete: { age: 600 },
        removeOnFail: { age: 3600 },
      },
    })));
  }

  /** Puts large values in keys of their own, each kept `ttl` seconds at most. */
  async putSides(sides: [string, Packed][], ttl: number): Promise<void> {
    const r = this.#redis;
    await Promise.all(sides.map(([key, v]) => r.set(key, this.codec.forRedis(v), "EX", ttl)));
  }

  /** A large value from its key (null if it is gone), then deletes the key. */
  async takeSide(side: SideRef): Promise<Packed | null> {
    const r = this.#redis;
    const value = side.json ? await r.get(side.key) : await r.getBuffer(side.key);
    void r.del(side.key).catch(() => {});
    return value;
  }

  /** Deletes a large value's key (its task has settled). */
  dropSide(key: string): void {
    void this.#redis.del(key).catch(() => {});
  }

  remove(id: string): Promise<number> {
    return this.#queue.remove(id).catch(() => 0);
  }

  /**
   * Asks the workers to stop job `id`: a key that says so (sent once Redis is reachable, if it is
   * not now), then a message on the stop channel for the worker running it.
   */
  async stop(id: string): Promise<number> {
    await this.#redis.set(stopKey(this.#queueName, id), "1", "EX", STOP_TTL_S).catch(() => {});
    return this.#redis.publish(this.#channel, id).catch(() => 0);
  }

  /** What Redis knows of job `id` (after a reconnection). */
  async outcome(
    id: string,
  ): Promise<{ state: string; result?: unknown; reason?: string }> {
    const state = await this.#queue.getJobState(id);
    if (state === "completed" || state === "failed") {
      const job = await this.#queue.getJob(id);
      return { state, result: parseResult(job?.returnvalue), reason: job?.failedReason };
    }
    return { state };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    const connections = [this.#redis, this.#eventsRedis];
    await closeUnlessAway(
      Promise.allSettled([this.#events?.close(), this.#queue.close()]),
      connections,
    );
    await Promise.all([hangUp(this.#redis), hangUp(this.#eventsRedis)]);
  }
}

/** A job's return value as an event or the job gives it (BullMQ stores it as JSON). */
function parseResult(value: unknown): TaskResult {
  return (typeof value === "string" ? JSON.parse(value) : value) as TaskResult;
}
