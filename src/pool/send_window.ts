/**
 * How many tasks a pool keeps in flight per worker: about `WINDOW_MS` of work at the average
 * duration of a function's tasks (one at a time until a duration is known, at most `MAX_WINDOW`),
 * so that short tasks go in batches and a worker never waits for its next one, while long tasks
 * stay spread over the workers. Each function is timed apart: a pool that ran quick tasks sends
 * the first tasks of another function one per worker, and none behind a slow one (CPython's
 * workers take a task each when free; a batch sent ahead would hold a quick task behind a slow
 * one while another worker idles).
 * @module
 */

/**
 * A worker with tasks in flight that has given no results for this long (ms) is sent no more
 * until it does: its window expected results within a few milliseconds, so it runs a task slower
 * than its function's others, and what is sent now would wait behind it.
 */
export const STALLED_MS = 50;

/** Keep about this many milliseconds of work in flight per worker. */
const WINDOW_MS = 4;
const MAX_WINDOW = 1024;

/** The average duration of one function's tasks, and the window it gives. */
export class SendWindow {
  #avgMs = Infinity;
  #size = 1;

  /** A worker ran `n` tasks in `busyMs` (the average moves 0.3 of the way there). */
  observe(busyMs: number, n: number): void {
    if (n === 0) return;
    const avg = busyMs / n;
    this.#avgMs = Number.isFinite(this.#avgMs) ? 0.7 * this.#avgMs + 0.3 * avg : avg;
    this.#size = Math.max(
      1,
      Math.min(MAX_WINDOW, Math.floor(WINDOW_MS / Math.max(this.#avgMs, 1e-4))),
    );
  }

  /** Tasks to keep in flight per worker. */
  size(): number {
    return this.#size;
  }
}

/** What `windowFor` reads of a task: its function's window. */
interface Windowed {
  fn: { window: SendWindow };
}

/**
 * How many tasks a worker may have in flight with `task` among them: the smallest window of
 * `task`'s function, that of the task the worker runs and that of the one it was sent last -- a
 * task sent behind one of a slower function would wait for it, where a worker with room (or one
 * the pool may start) would run it now.
 */
export function windowFor(w: { inFlight: readonly Windowed[] }, task: Windowed): number {
  let size = task.fn.window.size();
  const running = w.inFlight[0];
  if (running) {
    size = Math.min(size, running.fn.window.size(), w.inFlight.at(-1)!.fn.window.size());
  }
  return size;
}

/**
 * The tasks of one batch of results, and the worker's busy time for them: each function's window
 * observes its share (in proportion to its tasks when the batch mixes functions).
 */
export class TaskTimes {
  readonly #busyMs: number;
  #n = 0;
  /** The window of the batch's tasks while they are all of one function. */
  #one: SendWindow | undefined;
  /** Per window, its tasks, once the batch mixes functions. */
  #mixed: Map<SendWindow, number> | undefined;

  constructor(busyMs: number) {
    this.#busyMs = busyMs;
  }

  /** One more task of the batch. */
  add(task: Windowed): void {
    const w = task.fn.window;
    this.#n++;
    if (this.#mixed) this.#mixed.set(w, (this.#mixed.get(w) ?? 0) + 1);
    else if (this.#one === undefined || this.#one === w) this.#one = w;
    else this.#mixed = new Map([[this.#one, this.#n - 1], [w, 1]]);
  }

  /** Tells each window its tasks' time. */
  observe(): void {
    if (!this.#mixed) return this.#one?.observe(this.#busyMs, this.#n);
    for (const [w, n] of this.#mixed) w.observe((this.#busyMs * n) / this.#n, n);
  }
}
