/**
 * Where the child entry scripts are, next to the library's own sources (`src/entry/`), as
 * TypeScript in a checkout or a URL import, as JavaScript in the built package.
 * @module
 */
import { libraryExtension } from "./host.ts";

/** URL of the entry script for `kind` children. */
export function entryUrl(kind: "thread" | "process"): string {
  return new URL(`../entry/${kind}${libraryExtension(import.meta.url)}`, import.meta.url).href;
}
