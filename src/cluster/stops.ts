/**
 * How a `multiproc worker` hears that clients stopped jobs (a signal aborted, or
 * `cancel({ force: true })`): a message on the queue's stop channel, and a key that records the
 * stop (protocol.ts). The channel tells the jobs running here at once, and is remembered for a
 * job that has not reached this worker's `process` yet. The keys are read only where a message
 * may have been missed: for a job redelivered from a worker that died, for jobs started while
 * the channel was down, for every running job when it comes back, and every `STOP_POLL_MS` while
 * jobs run.
 * @module
 */
import { unrefTimer } from "../runtime/host.ts";
import type { Redis } from "./broker.ts";
import { stopChannel, stopKey } from "./protocol.ts";

/** How often the keys of stops are looked at for the running jobs. */
const STOP_POLL_MS = 2000;
/** Stops heard for jobs not running here, remembered (the most recent ones). */
const RECENT_MAX = 1000;

/** What a `Stops` needs from its worker. */
export interface StopsOptions {
  queue: string;
  /** The connection that subscribes to the stop channel (it can do nothing else). */
  subscriber: Redis;
  /** A connection for reading the keys. */
  control: Redis;
  /** The ids of the jobs running here. */
  running(): Iterable<string>;
  isRunning(id: string): boolean;
  /** Stops job `id`, running here. */
  stop(id: string): void;
}

/** The stops of one worker's jobs. */
export class Stops {
  readonly #o: StopsOptions;
  readonly #recent = new Set<string>();
  /** Jobs to look up, a turn after the first: the jobs that start meanwhile join it. */
  readonly #toCheck = new Set<string>();
  #checking = false;
  #down = false;
  readonly #poll: ReturnType<typeof setInterval>;

  constructor(o: StopsOptions) {
    this.#o = o;
    o.subscriber.on("message", (_channel, id) => {
      if (o.isRunning(id)) return o.stop(id);
      this.#recent.add(id);
      if (this.#recent.size > RECENT_MAX) this.#recent.delete(this.#recent.values().next().value!);
    });
    o.subscriber.on("close", () => (this.#down = true));
    o.subscriber.on("ready", () => {
      if (!this.#down) return;
      this.#down = false;
      this.#check([...o.running()]); // messages sent meanwhile were lost
    });
    this.#poll = setInterval(() => void this.#look([...o.running()]), STOP_POLL_MS);
    unrefTimer(this.#poll);
  }

  /** Subscribes; resolves once messages are heard. */
  async listen(): Promise<void> {
    await this.#o.subscriber.subscribe(stopChannel(this.#o.queue));
  }

  /**
   * Job `id` starts here. `redelivered`: it ran on a worker that died, where a stop may have
   * been sent for it.
   */
  started(id: string, redelivered: boolean): void {
    if (this.#recent.delete(id)) this.#o.stop(id);
    else if (redelivered || this.#o.subscriber.status !== "ready") this.#check([id]);
  }

  close(): void {
    clearInterval(this.#poll);
  }

  #check(ids: string[]): void {
    for (const id of ids) this.#toCheck.add(id);
    if (this.#checking) return;
    this.#checking = true;
    setTimeout(async () => {
      try {
        while (this.#toCheck.size > 0) {
          const ids = [...this.#toCheck].filter((id) => this.#o.isRunning(id));
          this.#toCheck.clear();
          await this.#look(ids);
        }
      } finally {
        this.#checking = false;
      }
    }, 0);
  }

  /** Stops the jobs among `ids` whose stop keys are there: one MGET. */
  async #look(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const keys = ids.map((id) => stopKey(this.#o.queue, id));
    const found = await this.#o.control.mget(...keys).catch(() => []);
    found.forEach((v, i) => {
      if (v !== null && v !== undefined && this.#o.isRunning(ids[i])) this.#o.stop(ids[i]);
    });
  }
}
