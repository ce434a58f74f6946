/**
 * Work done once per turn however often it is asked for: the tasks a caller submits in one go
 * are handled in one batch, at the end of the turn that submitted them.
 * @module
 */

/**
 * A function that runs `fn` at the end of this turn (a microtask, or when `schedule` calls it:
 * `setImmediate`, after the turn's I/O), once however many times it is called before then.
 * @example
 * ```ts
 * import { coalesced } from "./coalesce.ts";
 * let runs = 0;
 * const flush = coalesced(() => runs++);
 * flush();
 * flush();
 * await Promise.resolve();
 * console.assert(runs === 1);
 * ```
 */
export function coalesced(
  fn: () => void,
  schedule: (run: () => void) => unknown = queueMicrotask,
): () => void {
  let due = false;
  const run = () => {
    due = false;
    fn();
  };
  return () => {
    if (due) return;
    due = true;
    schedule(run);
  };
}
