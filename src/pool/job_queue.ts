/**
 * A pool's tasks waiting for a worker, in order. A task that leaves while it waits (cancelled,
 * stopped, its pool shut down) is not searched for: it stays in the deque, counted as gone, until
 * the dispatcher reaches it and drops it.
 * @module
 */
import { Deque } from "./deque.ts";

/** Tasks waiting for a worker; `live(job)` tells whether one is still wanted. */
export class JobQueue<J> {
  readonly #deque = new Deque<J>();
  readonly #live: (job: J) => boolean;
  /** Jobs in the deque that are no longer live. */
  #gone = 0;

  constructor(live: (job: J) => boolean) {
    this.#live = live;
  }

  /** How many live tasks wait. */
  get size(): number {
    return this.#deque.size - this.#gone;
  }

  /** Adds `job` at the back. */
  push(job: J): void {
    this.#deque.push(job);
  }

  /** A waiting task left (it is no longer live): it is dropped when reached. */
  left(): void {
    this.#gone++;
  }

  /** The first live task, without taking it (the ones gone before it are dropped). */
  peek(): J | undefined {
    for (let job = this.#deque.peek(); job !== undefined; job = this.#deque.peek()) {
      if (this.#live(job)) return job;
      this.#deque.shift();
      this.#gone--;
    }
    return undefined;
  }

  /** Takes the task `peek()` returned. */
  shift(): void {
    this.#deque.shift();
  }

  /** Puts tasks sent to a worker but not started back at the front, in their order. */
  requeue(jobs: J[]): void {
    if (jobs.length) this.#deque.unshiftAll(jobs);
  }

  /** Takes every live task. */
  takeAll(): J[] {
    this.#gone = 0;
    return this.#deque.takeAll().filter(this.#live);
  }

  /** Takes the live tasks for which `take` is true, in order, and drops the ones gone. */
  takeWhere(take: (job: J) => boolean): J[] {
    const taken: J[] = [];
    this.#deque.retain((job) => {
      if (!this.#live(job)) return false;
      if (!take(job)) return true;
      taken.push(job);
      return false;
    });
    this.#gone = 0;
    return taken;
  }
}
