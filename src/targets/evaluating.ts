/**
 * Which entry module is still evaluating its main code. Such a module cannot be imported from
 * inside its own evaluation (the import would wait for the very code that waits for it: the
 * notebook's shape, functions and `await p.join()` in one module), so a target found there is
 * confirmed by the child instead. `isMain(import.meta)` notes the entry; the promise of its
 * import settles exactly when its evaluation ends: no timer, no guess. A program that never
 * calls `isMain` gives no such promise: its entry module (the runtime's main script) counts as
 * evaluating for good, and the child confirms its targets (where, if its main code starts
 * children, it fails with the bootstrapping error that says to guard it).
 * @module
 */

import { processWide } from "../core/process_wide.ts";
import { isEntryUrl } from "../runtime/os.ts";
import { state } from "../state/state.ts";

const entries = processWide("evaluatingEntries", () => new Map<string, { done: boolean }>());

/** Records that the entry module `url` is evaluating; learns when its evaluation ends. */
export function noteEntryEvaluating(url: string): void {
  if (entries.has(url)) return;
  const entry = { done: false };
  entries.set(url, entry);
  import(url).then(() => (entry.done = true), () => (entry.done = true));
}

/** The entry module(s) `isMain(import.meta)` found true in this process (the program's main). */
export function entryModules(): string[] {
  return [...entries.keys()];
}

/**
 * Whether `url` is the entry module and has not finished evaluating, or, never noted by
 * `isMain`, is the main process's entry module at all.
 */
export function isEvaluating(url: string): boolean {
  const entry = entries.get(url);
  if (entry !== undefined) return !entry.done;
  // In a child the program's main script is an ordinary module (its parent's argv is shown).
  return state().parent === null && isEntryUrl(url, undefined);
}
