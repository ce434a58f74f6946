/**
 * Targets that no module of the program exports: the library's own exports (`sleep`,
 * `cpuCount`, ...) and the runtime's built-in functions (`Math.sqrt`, `JSON.stringify`,
 * `console.log`), as Python's `executor.submit(time.sleep, 1)` and `pool.map(math.sqrt, xs)`.
 * A built-in is named by its path from `globalThis`, which a child of the same runtime has too.
 * @module
 */
import { libraryMainUrl } from "../runtime/entry_url.ts";
import { importModule } from "../runtime/load.ts";

/** The module URL of a built-in's target: its `exportName` is the path from `globalThis`. */
export const GLOBAL_URL = "multiproc:globalThis";

/** The library's exported functions by value, read once (null: its main module is not there). */
let libraryFunctions: Promise<Map<unknown, string> | null> | undefined;

/** The name the library's main module exports `fn` under, if it does. */
export async function libraryExport(
  fn: unknown,
): Promise<{ url: string; exportName: string } | undefined> {
  const url = libraryMainUrl();
  libraryFunctions ??= importModule(url).then((ns) => {
    const byValue = new Map<unknown, string>();
    for (const key of Object.keys(ns)) {
      if (typeof ns[key] === "function" && !byValue.has(ns[key])) byValue.set(ns[key], key);
    }
    return byValue;
  }, () => null); // null: not where it was built to be (a program that bundled the library)
  const exportName = (await libraryFunctions)?.get(fn);
  return exportName === undefined ? undefined : { url, exportName };
}

/** The path of built-in `fn` from `globalThis` (`Math.sqrt`), if it is one. */
export function builtinPath(fn: unknown): string | undefined {
  if (typeof fn !== "function") return undefined;
  if (!/\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn))) return undefined;
  const root = globalThis as unknown as Record<string, unknown>;
  const owners: [string, object][] = [];
  for (const key of Object.getOwnPropertyNames(root)) {
    const value = ownValue(root, key);
    if (value === fn) return key;
    if (value !== null && (typeof value === "object" || typeof value === "function")) {
      owners.push([key, value]);
    }
  }
  for (const [owner, object] of owners) {
    for (const key of Object.getOwnPropertyNames(object)) {
      if (ownValue(object, key) === fn) return `${owner}.${key}`;
    }
  }
  return undefined;
}

/** The function at `path` from `globalThis` in this process, if there is one. */
export function builtinAt(path: string): ((...args: never[]) => unknown) | undefined {
  let at: unknown = globalThis;
  for (const key of path.split(".")) {
    at = at !== null && (typeof at === "object" || typeof at === "function")
      ? ownValue(at, key)
      : undefined;
  }
  return typeof at === "function" ? at as (...args: never[]) => unknown : undefined;
}

/** A data property's value (never a getter's: it could throw, or do something). */
function ownValue(object: object, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  return descriptor && "value" in descriptor ? descriptor.value : undefined;
}
