/**
 * How many tasks a pool keeps in flight per worker: about `WINDOW_MS` of work at the tasks'
 * average duration (one at a time until a duration is known, at most `MAX_WINDOW`), so that short
 * tasks go in batches and a worker never waits for its next one, while long tasks stay spread
 * over the workers.
 * @module
 */

/** Keep about this many milliseconds of work in flight per worker. */
const WINDOW_MS = 4;
const MAX_WINDOW = 1024;

/** The tasks' average duration, and the window it gives. */
export class SendWindow {
  #avgMs = Infinity;

  /** A worker ran `n` tasks in `busyMs` (the average moves 0.3 of the way there). */
  observe(busyMs: number, n: number): void {
    if (n === 0) return;
    const avg = busyMs / n;
    this.#avgMs = Number.isFinite(this.#avgMs) ? 0.7 * this.#avgMs + 0.3 * avg : avg;
  }

  /** Tasks to keep in flight per worker. */
  size(): number {
    if (!Number.isFinite(this.#avgMs)) return 1;
    return Math.max(1, Math.min(MAX_WINDOW, Math.floor(WINDOW_MS / Math.max(this.#avgMs, 1e-4))));
  }
}
