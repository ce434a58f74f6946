/**
 * Finding a child's code. A child cannot receive a closure: it imports the module that exports
 * the function and calls that export. The module is found from a `task()` mark, the `module`
 * option, or the calling module, and confirmed by identity before anything starts.
 * @module
 */
import { callerSite } from "./callsite.ts";
import { declaresExport, moduleNamespace, moduleSource, taskExportAt } from "./module_exports.ts";
import { cleanModuleUrl, pathToFileUrl } from "./runtime/host.ts";
import { state } from "./state.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/** Where a child finds a function: a module URL and the name it is exported under. */
export interface TargetRef {
  readonly url: string;
  readonly exportName: string;
}

const MARKS_KEY = Symbol.for("multiproc.taskMarks");
const marks: WeakMap<AnyFunction, string> = ((globalThis as unknown as {
  [MARKS_KEY]?: WeakMap<AnyFunction, string>;
})[MARKS_KEY] ??= new WeakMap());
/** The line of each `task()` call, to name an anonymous function in a module still evaluating. */
const LINES_KEY = Symbol.for("multiproc.taskLines");
const markLines: WeakMap<AnyFunction, number> = ((globalThis as unknown as {
  [LINES_KEY]?: WeakMap<AnyFunction, number>;
})[LINES_KEY] ??= new WeakMap());

/**
 * Marks `fn` as exported from the module of `importMeta`, so children can find it wherever it
 * is used from. Returns `fn` itself.
 * @example
 * ```ts
 * import { task } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * ```
 */
export function task<F extends AnyFunction>(importMeta: ImportMeta, fn: F): F {
  if (typeof fn !== "function") {
    throw new TypeError(`task(import.meta, fn) needs a function, got ${typeof fn}`);
  }
  const url = cleanModuleUrl(importMeta.url);
  marks.set(fn, url);
  // Only in the main process can a target's module still be evaluating when it is confirmed.
  if (!fn.name && state().parent === null) {
    const site = callerSite();
    if (site?.url === url) markLines.set(fn, site.line);
  }
  return fn;
}

/** The module a `task()` mark gives for `fn`, if it has one. */
export function markedModule(fn: AnyFunction): string | undefined {
  return marks.get(fn);
}

/** Normalizes a `module` option (`import.meta.url`, a URL or a path) to a URL string. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return module;
  return pathToFileUrl(module).href;
}

/**
 * Finds the module and export name of `fn`, trying the `task()` mark, then `module`, then
 * `caller`. `what` names the caller for errors, e.g. `Cannot start process 'Process-3'`.
 */
export async function resolveTarget(
  fn: AnyFunction,
  module: string | URL | undefined,
  caller: string | undefined,
  what: string,
): Promise<TargetRef> {
  if (typeof fn !== "function") {
    throw new TypeError(`${what}: the target must be a function, got ${describe(fn)}.`);
  }
  const candidates = [marks.get(fn), module === undefined ? undefined : moduleUrl(module), caller]
    .filter((u): u is string => u !== undefined);
  const searched: string[] = [];
  const unreadable: string[] = [];
  for (const url of new Set(candidates)) {
    searched.push(url);
    let ns: Record<string, unknown> | undefined;
    try {
      ns = await moduleNamespace(url);
    } catch (error) {
      throw new Error(`${what}: cannot import module '${url}' to find '${fnName(fn)}'.`, {
        cause: error,
      });
    }
    if (ns === undefined) {
      // Mid-evaluation: trust a source declaration of an export with the function's own name,
      // or, for an anonymous function, the `export const name = task(` on its task() line.
      let source: string;
      try {
        source = await moduleSource(url);
      } catch (error) {
        unreadable.push(`'${url}' (${(error as Error)?.message ?? error})`);
        continue;
      }
      if (fn.name && declaresExport(source, fn.name)) return { url, exportName: fn.name };
      const line = marks.get(fn) === url ? markLines.get(fn) : undefined;
      const name = line === undefined ? undefined : taskExportAt(source, line);
      if (name !== undefined) return { url, exportName: name };
      continue;
    }
    for (const [name, value] of Object.entries(ns)) {
      if (value === fn) return { url, exportName: name };
    }
  }
  const where = searched.length ? searched.map((u) => `'${u}'`).join(" or ") : "no module";
  throw new TypeError(
    `${what}: target '${fnName(fn)}' is not exported from ${where}. A child imports the `
      + `function's module, so the function must be exported, and the module found in one of `
      + `three ways: mark it where it is defined with \`export const f = task(import.meta, ...)\`; `
      + `pass \`module: import.meta.url\` (or a URL or path) naming the module that exports it; `
      + `or export it from the module that makes this call.`
      + (unreadable.length
        ? ` A module still running its main code cannot be imported, and reading its source to `
          + `find the export failed: ${unreadable.join("; ")}.`
        : ""),
  );
}

function fnName(fn: AnyFunction): string {
  return fn.name || "<anonymous function>";
}

function describe(v: unknown): string {
  return v === null ? "null" : typeof v;
}
