/**
 * How a `multiproc worker` hands its jobs to its local pool: once per turn of the event loop.
 * BullMQ gives a worker its jobs one promise at a time, each a few microtasks after the other,
 * even when one read from Redis brought several; handed over as they come, each would go to a
 * child in a message of its own (the pool sends what was submitted before its microtask runs),
 * one pipe write in this process and one wake-up of a child per job. Gathered until the turn's
 * I/O is done (`setImmediate`), the jobs of one read go in one message per child.
 * @module
 */
import { coalesced } from "../core/coalesce.ts";

/** A call deferred to the end of this turn, and the promise it settles. */
interface Deferred {
  call(): void;
  resolve(): void;
  reject(error: unknown): void;
}

/** Calls made together, at the end of the turn in which they were asked for. */
export class TurnBatch {
  #calls: Deferred[] = [];
  readonly #schedule = coalesced(() => this.#flush(), setImmediate);

  /**
   * Makes `call()` with the others asked for in this turn, in the order asked; resolves once it
   * returned, rejects with what it threw. (It returns nothing: a future it made would be awaited
   * by the promise instead of handed back.)
   */
  run(call: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#calls.push({ call, resolve, reject });
      this.#schedule();
    });
  }

  #flush(): void {
    const calls = this.#calls;
    this.#calls = [];
    for (const c of calls) {
      try {
        c.call();
        c.resolve();
      } catch (error) {
        c.reject(error);
      }
    }
  }
}
