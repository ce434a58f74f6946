/**
 * `connectionWait` (CPython's `multiprocessing.connection.wait`).
 * @module
 */
import { Deadline } from "../core/deadline.ts";
import { READY, type Waitable } from "../core/ready.ts";

/** How long one round of waiting lasts before every object is asked again. */
const ROUND_MS = 50;

/**
 * Waits until at least one of `objects` is ready and returns those that are (in the order
 * given), or an empty array after `timeoutMs` (none: wait as long as it takes). Ready means: a
 * `Connection` has something to receive or its peer closed it; a `Queue` holds an item; a
 * `Process` has exited.
 * @example
 * ```ts
 * import { connectionWait, Pipe } from "multiproc";
 * const [a, b] = Pipe();
 * const [c, d] = Pipe();
 * d.send("from d");
 * const ready = await connectionWait([a, c], 1000);
 * console.log(ready.length, ready[0] === c); // 1 true
 * for (const end of [a, b, c, d]) end.close();
 * ```
 */
export async function connectionWait<T extends Waitable>(
  objects: Iterable<T>,
  timeoutMs?: number,
): Promise<T[]> {
  const list = [...objects];
  list.forEach((o, i) => {
    if (typeof (o as Partial<Waitable>)?.[READY] !== "function") {
      throw new TypeError(
        `connectionWait(): object ${i} (${describe(o)}) cannot be waited on: pass Connections `
          + `(Pipe ends, Listener/Client connections), Queues or Processes`,
      );
    }
  });
  const deadline = new Deadline("connectionWait()", timeoutMs);
  for (;;) {
    const now = await Promise.all(list.map((o) => o[READY](0)));
    const ready = list.filter((_, i) => now[i]);
    if (ready.length || list.length === 0 || deadline.expired()) return ready;
    const round = Math.min(deadline.remaining(), ROUND_MS);
    // Each object waits at most one round, so none is left waiting once one is ready.
    await Promise.race(list.map((o) => o[READY](round)));
  }
}

function describe(o: unknown): string {
  if (o === null || typeof o !== "object") return String(o);
  return (o as { constructor?: { name?: string } }).constructor?.name ?? "object";
}
