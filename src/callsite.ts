/**
 * The module that called into the library, read from the stack (V8 on Deno and Node, JSC's
 * path-based frames on Bun).
 * @module
 */
import { cleanModuleUrl, pathToFileUrl } from "./runtime/host.ts";

const SRC_DIR = cleanModuleUrl(new URL("./", import.meta.url).href);
const MOD_FILES = [new URL("../mod.ts", SRC_DIR).href, new URL("../mod.js", SRC_DIR).href];
const FRAME = /((?:file|https?):\/\/[^\s()]+?|\/[^\s()]+?):(\d+)(?::\d+)?\)?\s*$/;

/** A place in a module: its URL and a 1-based line (source-mapped where the runtime maps). */
export interface CallSite {
  readonly url: string;
  readonly line: number;
}

/** URL of the first module on the stack that is not part of this library, if any. */
export function callerModule(): string | undefined {
  return callerSite()?.url;
}

/** The first place on the stack outside this library, if any. */
export function callerSite(): CallSite | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const url = cleanModuleUrl(m[1].startsWith("/") ? pathToFileUrl(m[1]).href : m[1]);
    if (!url.startsWith(SRC_DIR) && !MOD_FILES.includes(url)) return { url, line: Number(m[2]) };
  }
  return undefined;
}
