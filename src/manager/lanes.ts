/**
 * The manager's side of its callers' fast lanes (proxy/lane.ts): while calls come, it looks at
 * every lane once per turn of its event loop, which keeps a core busy; after `AWAKE_MS` with none
 * it clears each lane's AWAKE word and sleeps, and a caller then wakes it through its socket. So
 * calls that come less than `AWAKE_MS` apart keep the manager's core busy between them, the price
 * of answering each in microseconds (tried: a window that shrinks when calls come apart fed on
 * itself, each late wake-up making the next gap longer).
 * @module
 */
import type { ManagerLane } from "../proxy/lane.ts";

/** How long the manager keeps looking at its lanes after the last call (ms). */
const AWAKE_MS = 2;
/**
 * How long a turn with no call waiting looks for one before it lets the event loop run (ms): a
 * caller that awaits one call and makes the next is back within microseconds. A turn runs at most
 * one call per lane: what a call wakes (a waiter of a lock it released, in a Promise's callback)
 * runs before that caller's next call, as it would through the socket.
 */
const SPIN_MS = 0.03;

/** A lane and what runs the requests taken from it. */
export interface LaneEntry {
  lane: ManagerLane;
  run(request: Uint8Array): void;
}

/** Every lane of one manager. */
export class Lanes {
  readonly #entries = new Set<LaneEntry>();
  #awake = false;
  #lastCall = 0;

  add(entry: LaneEntry): void {
    this.#entries.add(entry);
    entry.lane.awake = this.#awake;
  }

  remove(entry: LaneEntry): void {
    this.#entries.delete(entry);
    entry.lane.close();
  }

  /**
   * Runs the request waiting on `entry`'s lane now (a message of its socket comes after whatever
   * its caller wrote on the lane before) and keeps looking for a while.
   */
  drain(entry: LaneEntry): void {
    this.#take(entry);
    this.#wake();
  }

  #take(entry: LaneEntry): boolean {
    const request = entry.lane.take();
    if (!request) return false;
    entry.run(request);
    return true;
  }

  #takeAll(): boolean {
    let busy = false;
    for (const e of this.#entries) busy = this.#take(e) || busy;
    return busy;
  }

  #wake(): void {
    this.#lastCall = performance.now();
    if (this.#awake) return;
    this.#awake = true;
    for (const e of this.#entries) e.lane.awake = true;
    setImmediate(this.#tick);
  }

  readonly #tick = (): void => {
    let busy = this.#takeAll();
    if (!busy) {
      const until = performance.now() + SPIN_MS;
      for (let i = 1; !busy && ((i & 15) !== 0 || performance.now() < until); i++) {
        busy = this.#takeAll();
      }
    }
    const now = performance.now();
    if (busy) this.#lastCall = now;
    if (now - this.#lastCall < AWAKE_MS) {
      setImmediate(this.#tick);
      return;
    }
    for (const e of this.#entries) e.lane.awake = false;
    // A caller that wrote before seeing AWAKE cleared did not wake us: look once more.
    if ([...this.#entries].some((e) => e.lane.pending)) {
      for (const e of this.#entries) e.lane.awake = true;
      setImmediate(this.#tick);
      return;
    }
    this.#awake = false;
  };

  /** Lets go of every lane (shutdown). */
  close(): void {
    for (const e of this.#entries) e.lane.close();
    this.#entries.clear();
  }
}
