/**
 * Which entry module is still evaluating its main code. Such a module cannot be imported from
 * inside its own evaluation (the import would wait for the very code that waits for it: the
 * notebook's shape, functions and `await p.join()` in one module), so a target found there is
 * confirmed by the child instead. `isMain(import.meta)` notes the entry; the promise of its
 * import settles exactly when its evaluation ends: no timer, no guess. A program that never
 * calls `isMain` is watched the same way from the moment the library loads: its main module (the
 * runtime's main script), imported then, counts as evaluating until that import settles; where
 * that import cannot be made early (Deno), for good (its targets are confirmed by the child).
 * @module
 */

import { processWide } from "../core/process_wide.ts";
import { entryUrl } from "../runtime/entry_url.ts";
import { isEntryUrl, programMainModule } from "../runtime/os.ts";

const entries = processWide("evaluatingEntries", () => new Map<string, { done: boolean }>());

/** Records that the entry module `url` is evaluating; learns when its evaluation ends. */
export function noteEntryEvaluating(url: string): void {
  if (!entries.has(url)) entries.set(url, watch(url));
}

function watch(url: string): { done: boolean } {
  const entry = { done: false };
  import(url).then(() => (entry.done = true), () => (entry.done = true));
  return entry;
}

/** The program's main module, watched from the library's load on (one watch per process). */
const programMain = processWide("programMain", () => {
  const main = programMainModule(entryUrl("process"));
  if (main === undefined) return null;
  return main.watchable ? watch(main.url) : { done: false };
});

/** The entry module(s) `isMain(import.meta)` found true in this process (the program's main). */
export function entryModules(): string[] {
  return [...entries.keys()];
}

/** Whether `url` is the entry module (noted by `isMain`, or the program's main) mid-evaluation. */
export function isEvaluating(url: string): boolean {
  const entry = entries.get(url);
  if (entry !== undefined) return !entry.done;
  return programMain !== null && !programMain.done && isEntryUrl(url, undefined);
}
