/**
 * When a pool grows beyond its eager workers: only while tasks wait and the workers make no
 * progress (no task done, no worker ready) for `GROW_MS` -- quick tasks keep a few workers busy,
 * and their code warm, instead of spreading over many; slow tasks (a long call, an await) still
 * get a worker each. While every busy worker is on its first task (which may be loading its
 * module), that wait is `FIRST_TASK_MS` from its start.
 * @module
 */
import { unrefTimer } from "../runtime/host.ts";

/** Beyond the eager workers, workers are added once tasks waited this long (ms) with no progress. */
export const GROW_MS = 50;
/** While only first tasks run (their modules loading), no stall is seen for this long (ms). */
const FIRST_TASK_MS = 1000;

/** What the policy reads of a worker. */
export interface GrowthView {
  /** It said hello. */
  ready: boolean;
  /** When it said hello (`performance.now()`). */
  readyAt: number;
  /** Tasks sent to it, and those not yet settled. */
  sent: number;
  inFlight: { length: number };
}

/** A pool's growth beyond its eager workers. */
export class Growth {
  /**
   * The last sign of progress (`performance.now()`): a worker became ready or sent results, or
   * tasks began to wait.
   */
  #lastProgress = 0;
  /** A call of `due` when the pool may grow. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #due: () => void;

  /** `due` is called when the pool may grow after `mayGrow` said it may not yet. */
  constructor(due: () => void) {
    this.#due = due;
  }

  /** A worker became ready or sent results, or tasks began to wait. */
  progress(): void {
    this.#lastProgress = performance.now();
  }

  /** Whether the pool of `workers` may grow now; if not, `due` is called when it may. */
  mayGrow(workers: Iterable<GrowthView>): boolean {
    let at = this.#lastProgress + GROW_MS;
    let warm = false;
    let cold = 0;
    for (const w of workers) {
      if (!w.ready) return false; // its hello dispatches again
      if (w.inFlight.length === 0) continue;
      if (w.sent > w.inFlight.length) warm = true; // it has finished a task before
      else cold = Math.max(cold, w.readyAt + FIRST_TASK_MS);
    }
    if (!warm) at = Math.max(at, cold);
    const now = performance.now();
    if (now >= at) return true;
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#due();
      }, at - now);
      unrefTimer(this.#timer); // the workers, busy with the tasks, keep the program alive
    }
    return false;
  }
}
