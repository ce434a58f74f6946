/**
 * The module that called into the library, read from the stack (V8 on Deno and Node, JSC's
 * path-based frames on Bun). The library's own frames are skipped however the runtime names
 * them: the checkout's `src/*.ts`, the package's bundled `dist/*.js`, those frames source-mapped
 * back to `src/*.ts` (tsx turns source maps on), or any of them imported from a URL.
 * @module
 */
import { libraryRootUrl } from "../runtime/entry_url.ts";
import { cleanModuleUrl, pathToFileUrl } from "../runtime/host.ts";

/** The library's root: of `src/` (source) and `dist/` (the bundle's chunks). */
const ROOT = cleanModuleUrl(libraryRootUrl());
const OWN_DIRS = [`${ROOT}src/`, `${ROOT}dist/`];
const OWN_FILES = [`${ROOT}mod.ts`, `${ROOT}mod.js`];
const FRAME = /(?:^|[\s(@])((?:file|https?):\/\/[^\s()]+?|\/[^\s()]+?):(\d+)(?::\d+)?\)?\s*$/;

/** Whether `url` is one of this library's own modules. */
export function isLibraryUrl(url: string): boolean {
  return OWN_FILES.includes(url) || OWN_DIRS.some((dir) => url.startsWith(dir));
}

/** The module that called into the library, worked out when first asked (see `callerOf`). */
export type Caller = () => string | undefined;

/**
 * The module calling into the library now, as a `Caller`: the stack is captured here, but read
 * only if a caller asks for it. Reading a stack costs (~0.15 ms on Deno, which maps TypeScript
 * frames back to their source); most callers never need it (a `task()`-marked target, one a child
 * has found before).
 */
export function callerOf(): Caller {
  const here = new Error();
  let url: string | undefined | null = null;
  return () => (url === null ? (url = callerModule(here.stack ?? "")) : url);
}

/** URL of the first module on `stack` (by default, the current one) outside this library. */
export function callerModule(stack = new Error().stack ?? ""): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const url = cleanModuleUrl(m[1].startsWith("/") ? pathToFileUrl(m[1]).href : m[1]);
    if (!isLibraryUrl(url)) return url;
  }
  return undefined;
}
