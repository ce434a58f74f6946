/**
 * The module that called into the library, read from the stack (V8 on Deno and Node, JSC's
 * path-based frames on Bun). The library's own frames are skipped however the runtime names
 * them: the checkout's `src/*.ts`, the package's bundled `dist/*.js`, those frames source-mapped
 * back to `src/*.ts` (tsx turns source maps on), or any of them imported from a URL.
 * @module
 */
import { libraryRootUrl } from "../runtime/entry_url.ts";
import { cleanModuleUrl, pathToFileUrl, realpath } from "../runtime/host.ts";
import { standaloneMain } from "../runtime/standalone.ts";

/** The library's root: of `src/` (source) and `dist/` (the bundle's chunks). */
const ROOT = cleanModuleUrl(libraryRootUrl());
const OWN_DIRS = [`${ROOT}src/`, `${ROOT}dist/`];
const OWN_FILES = [`${ROOT}mod.ts`, `${ROOT}mod.js`];
/** A stack frame's text up to its location's `:line:column` (and the `)` closing it). */
const FRAME_END = /^(.*?):\d+(?::\d+)?\)?\s*$/;
/** Where a frame's location may start: after `at `, ` (` or JSC's `@`. */
const LOCATION_START = /(?:^\s*at |\s\(|@)/g;
const LOCATION = /^(?:file:\/\/|https?:\/\/|\/)/;
/**
 * A `file:` URL written decoded (a space, `#` or a letter outside ASCII as it is): Deno's frames
 * in a Web Worker are (`at file:///home/me/My Code/app.ts:3:7`, where `import.meta.url` has
 * `My%20Code`).
 */
const DECODED_FILE_URL = /^file:\/\/[^\s#\u0080-\uffff]*[\s#\u0080-\uffff]/;
/** Code of no file: Node names an ES module given by `-e` or stdin `[eval1]` in the cwd. */
const NO_FILE = /\/\[(?:eval|stdin|worker eval)\d*\]$/;

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
  const here = errorHere();
  let url: string | undefined | null = null;
  return () => (url === null ? (url = callerModule(here.stack ?? "")) : url);
}

/**
 * Frames an error here keeps, at least: the library's own (a `Pool.starmap()` is 11 deep before
 * it asks for its caller) and the caller's. V8 keeps 10 unless told (`Error.stackTraceLimit`),
 * which cut the caller off: "comes from code of no module file" for a function it exports.
 */
const FRAMES = 64;

/** An error made here, its stack deep enough to reach the library's caller. */
function errorHere(): Error {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== "number" || limit >= FRAMES) return new Error();
  Error.stackTraceLimit = FRAMES;
  try {
    return new Error();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** URL of the first module on `stack` (by default, the current one) outside this library. */
export function callerModule(stack = errorHere().stack ?? ""): string | undefined {
  for (const line of stack.split("\n").slice(1)) {
    const location = frameLocation(line);
    if (location === undefined || isLibraryUrl(urlOf(location))) continue;
    // Only the caller's own path is looked for on disk (not each of the library's frames).
    return urlOf(location.startsWith("/") ? onDisk(location) : location);
  }
  // A single-file executable built with a source map names its frames by the relative paths it
  // was built from (`app.ts:3:7`), no module's: there the program is its main module.
  return standaloneMain() ?? undefined;
}

/** A frame's location as a module URL, encoded as `import.meta.url` is. */
function urlOf(location: string): string {
  if (location.startsWith("/")) return cleanModuleUrl(pathToFileUrl(location).href);
  if (DECODED_FILE_URL.test(location)) {
    return cleanModuleUrl(pathToFileUrl(location.slice("file://".length)).href);
  }
  return cleanModuleUrl(location);
}

/**
 * The module a stack frame is in, as the runtime wrote it (a URL, or an absolute path on Bun and
 * for CommonJS on Node), or undefined for a frame of no module file (a runtime's internals,
 * `eval`, `<anonymous>`, Node's `[eval1]` for `-e` and stdin). A path may hold spaces and
 * parentheses (`at f (/home/me/My Code (2)/app.cjs:3:7)`): the location is the earliest
 * candidate after `at `, ` (` or `@` that starts like one and has its parentheses balanced.
 */
export function frameLocation(line: string): string | undefined {
  const head = FRAME_END.exec(line)?.[1];
  if (head === undefined) return undefined;
  for (const m of head.matchAll(LOCATION_START)) {
    const location = head.slice(m.index + m[0].length);
    if (LOCATION.test(location) && balanced(location)) {
      return NO_FILE.test(location) ? undefined : location;
    }
  }
  return undefined;
}

/**
 * A frame's module path as it is on disk. tsx's source maps name a `.mts` or `.cts` module `.ts`
 * when its path has a letter outside ASCII (tsx 4.23, Node 20 and 24: `/home/\u00fc/x.ts` for
 * /home/\u00fc/x.mts): where the `.ts` file is missing, the sibling that exists is taken.
 */
function onDisk(path: string): string {
  if (!path.endsWith(".ts") || exists(path)) return path;
  for (const extension of [".mts", ".cts"]) {
    const sibling = `${path.slice(0, -3)}${extension}`;
    if (exists(sibling)) return sibling;
  }
  return path;
}

/** Whether `path` is there (and readable here). */
function exists(path: string): boolean {
  try {
    realpath(path);
    return true;
  } catch {
    return false; // missing, or not readable here: as it was
  }
}

/** Whether every `)` of `text` closes a `(` before it, and every `(` is closed. */
function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === "(") depth++;
    else if (c === ")" && --depth < 0) return false;
  }
  return depth === 0;
}
