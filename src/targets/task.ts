/**
 * Finding a child's code. A child cannot receive a closure: it imports the function's module and
 * takes the function from there. Three ways, each exact:
 * - a `task(import.meta, fn)` mark: the mark's ordinal among its module's marks. The child imports
 *   the module (where `isMain` is false, so it evaluates fully), which makes the same marks in
 *   the same order, and takes the one with that ordinal: no export name, no source read;
 * - an export of a module that has finished evaluating: the parent imports it and finds the
 *   export whose value is that very function (identity);
 * - an export of the entry module while it still evaluates (it cannot be imported from inside
 *   its own evaluation): the child imports it and takes the export with the function's name and
 *   source text, exported under that name or under one the module's text gives it (`export { f
 *   as g }`): a closure made by a factory shares its text with every function the factory makes,
 *   so an export under another name may be another function. If there is none, the child
 *   reports it and `start()` rejects.
 * @module
 */
import { shown } from "../core/options.ts";
import { processWide } from "../core/process_wide.ts";
import { cleanModuleUrl, fileUrlToPath, pathToFileUrl, readTextFile } from "../runtime/host.ts";
import { importModule } from "../runtime/load.ts";
import { moduleRunnerAdvice, testFileAdvice } from "../runtime/module_runner.ts";
import { refuseStartWhileBootstrapping } from "../state/state.ts";
import { builtinAt, builtinPath, GLOBAL_URL, libraryExport } from "./builtins.ts";
import type { Caller } from "./callsite.ts";
import { isEvaluating } from "./evaluating.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/**
 * Where a child finds a function: its module and one of an export name (confirmed by the parent)
 * or a `task()` mark's ordinal; else the child confirms the export by `name` and `source`.
 */
export interface TargetRef {
  readonly url: string;
  /** The function's own name (`fn.name`), for errors and for the child's confirmation. */
  readonly name: string;
  /** The export whose value is the function, confirmed by identity in the parent. */
  readonly exportName?: string;
  /** The ordinal of the function's `task()` mark among the marks its module makes. */
  readonly mark?: number;
  /**
   * A hash of the function's source text (`fn.toString()`), for the child's confirmation (none
   * where the module's whole text was checked, as a cluster worker does).
   */
  readonly source?: string;
  /** Modules searched before `url`, which do not export the function (for the child's error). */
  readonly searched?: readonly string[];
}

interface Mark {
  readonly url: string;
  readonly ordinal: number;
}

/** How errors name a function that has no name. */
export const ANONYMOUS = "<anonymous function>";

/** Every mark of this isolate: process-wide, so two copies of the library agree. */
interface Marks {
  readonly byFunction: WeakMap<AnyFunction, Mark>;
  readonly byModule: Map<string, AnyFunction[]>;
}
const marks: Marks = processWide<Marks>("taskMarks.v2", () => ({
  byFunction: new WeakMap(),
  byModule: new Map(),
}));

/**
 * A CommonJS module's `module` object, which `task()` and `isMain()` take where a module has no
 * `import.meta` (a `.cjs` file, or a `.js` one in a package without `"type": "module"`).
 * @example
 * ```ts
 * import { type CommonJsModule, isMain, task } from "multiproc";
 * declare const module: CommonJsModule; // what every CommonJS module has (main.cjs, say)
 * const square = task(module, (x: number) => x * x);
 * module.exports = { square };
 * if (isMain(module)) console.log("main program");
 * ```
 */
export interface CommonJsModule {
  /** The module's file, an absolute path. */
  readonly filename: string;
  exports: unknown;
}

/**
 * The URL of the module whose `import.meta` (or CommonJS `module`) `where` is, and its
 * `import.meta.main` where the runtime has one; throws a `TypeError` naming `call` otherwise.
 */
export function moduleOf(
  where: ImportMeta | CommonJsModule,
  call: string,
): { url: string; main?: unknown } {
  const w = where as Partial<ImportMeta & CommonJsModule> | null | undefined;
  if (typeof w?.url === "string") return { url: w.url, main: (w as { main?: unknown }).main };
  if (typeof w?.filename === "string" && w.filename.length > 0 && "exports" in w) {
    return { url: pathToFileUrl(w.filename).href };
  }
  // esbuild's CommonJS output (--format=cjs) makes every `import.meta` an empty object.
  const emptied = w !== null && typeof w === "object" && Reflect.ownKeys(w).length === 0
    ? ` (an empty object, as a bundle to CommonJS makes import.meta: bundle to ES modules, `
      + `esbuild's --format=esm, or pass the CommonJS \`module\`)`
    : "";
  throw new TypeError(
    `${call}: the first argument must be the module's import.meta (in CommonJS, its \`module\`), `
      + `got ${shown(where)}${emptied}.`,
  );
}

/**
 * Marks `fn` as belonging to the module of `importMeta`, so children can find it wherever it is
 * used from: they import that module and take the function its same `task()` call marks there.
 * Call it at the module's top level (not under `isMain`), exported or not. Returns `fn` itself.
 * In CommonJS, pass the module's `module` instead: `const square = task(module, (x) => x * x)`.
 * @example
 * ```ts
 * import { task } from "multiproc";
 * export const square = task(import.meta, (x: number) => x * x);
 * ```
 */
export function task<F extends AnyFunction>(importMeta: ImportMeta | CommonJsModule, fn: F): F {
  if (typeof fn !== "function") {
    throw new TypeError(
      `task(import.meta, fn) needs a function, got ${shown(fn)}: pass the function to mark.`,
    );
  }
  const url = cleanModuleUrl(moduleOf(importMeta, "task(import.meta, fn)").url);
  let list = marks.byModule.get(url);
  if (!list) marks.byModule.set(url, list = []);
  list.push(fn);
  if (!marks.byFunction.has(fn)) marks.byFunction.set(fn, { url, ordinal: list.length - 1 });
  return fn;
}

/** Where a child finds `fn` from its `task()` mark, if it has one. */
export function markedTarget(fn: AnyFunction): TargetRef | undefined {
  const mark = marks.byFunction.get(fn);
  return mark && { url: mark.url, name: fn.name, mark: mark.ordinal, source: sourceHash(fn) };
}

/** Normalizes a `module` option (`import.meta.url`, a URL or a path) to a URL string. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return module;
  return pathToFileUrl(module).href;
}

/**
 * Checks a `module` option (`Process`, the pools, `register()`, `ClusterExecutor`): absent,
 * `import.meta.url`, a URL or a path; else a `TypeError` naming `what` and what to pass (the
 * likely slips, `import.meta` itself and a CommonJS `module`, each get their remedy).
 */
export function checkModuleOption(module: unknown, what: string): string | URL | undefined {
  if (module === undefined || module instanceof URL) return module;
  if (typeof module === "string" && module !== "") return module;
  const m = module as Partial<ImportMeta & CommonJsModule> | null;
  const remedy = typeof m?.url === "string"
    ? "import.meta itself: pass import.meta.url"
    : typeof m?.filename === "string"
    ? "a CommonJS module: pass its module.filename (or __filename)"
    : "pass import.meta.url, a URL or a path";
  throw new TypeError(
    `${what}: the module option must be the module's URL or path, got ${
      module === "" ? "an empty string" : shown(module)
    } (${remedy}).`,
  );
}

/**
 * Finds where a child finds `fn`: its `task()` mark, else an export of `module`, else of the
 * calling module (`caller`, asked only then). `what` names the caller for errors, e.g.
 * `Cannot start process 'P-3'`.
 */
export async function resolveTarget(
  fn: AnyFunction,
  module: string | URL | undefined,
  caller: Caller,
  what: string,
): Promise<TargetRef> {
  if (typeof fn !== "function") {
    throw new TypeError(`${what}: the target must be a function, got ${shown(fn)}.`);
  }
  // Before the import below, which would wait on the very module whose evaluation calls this.
  refuseStartWhileBootstrapping(what);
  const marked = markedTarget(fn);
  if (marked) return marked;
  const library = await libraryExport(fn);
  if (library) return { ...library, name: fn.name };
  const builtin = builtinPath(fn);
  if (builtin !== undefined) return { url: GLOBAL_URL, name: fn.name, exportName: builtin };
  const candidates = [module === undefined ? undefined : moduleUrl(module), caller()]
    .filter((u): u is string => u !== undefined);
  const searched: string[] = [];
  for (const url of new Set(candidates)) {
    searched.push(url);
    // The entry module mid-evaluation: the child confirms the export (see the module comment).
    if (isEvaluating(cleanModuleUrl(url))) return unconfirmed(url, fn, searched);
    let ns: Record<string, unknown> | undefined;
    try {
      ns = await importUnlessStuck(url);
    } catch (error) {
      throw new Error(
        `${what}: cannot import module '${url}' to find '${fnName(fn)}'.${moduleRunnerAdvice()}`,
        { cause: error },
      );
    }
    // Still evaluating, as far as can be told: the child confirms the export.
    if (ns === undefined) return unconfirmed(url, fn, searched);
    for (const [exportName, value] of Object.entries(ns)) {
      if (value === fn) return { url, name: fn.name, exportName };
    }
  }
  throw notExported(what, fnName(fn), searched);
}

/** A target in module `url` (the last of `searched`) that its child is to confirm. */
function unconfirmed(url: string, fn: AnyFunction, searched: string[]): TargetRef {
  const ref = { url: cleanModuleUrl(url), name: fn.name, source: sourceHash(fn) };
  return searched.length > 1 ? { ...ref, searched: searched.slice(0, -1) } : ref;
}

/**
 * How long the parent waits for a module it imports to find a target before it leaves the check
 * to the child: a module still evaluating whose top-level code awaits this very call (a worker
 * thread's entry module, which no `isMain()` noted, at a top-level `await`) never finishes
 * importing. A module slower to load than this is checked by the child too.
 */
const IMPORT_PATIENCE_MS = 1000;

/** `importModule(url)`, or `undefined` if it has not settled within `IMPORT_PATIENCE_MS`. */
async function importUnlessStuck(url: string): Promise<Record<string, unknown> | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, IMPORT_PATIENCE_MS, undefined);
  });
  const imported = importModule(url);
  imported.catch(() => {}); // once the patience has run out, nothing waits for its failure
  try {
    return await Promise.race([imported, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** A target that is not where a child can find it (a child reports it to its parent). */
export class TargetNotFound extends TypeError {}

/** The error for a target that is not where a child can find it. */
function notExported(what: string, name: string, searched: string[]): TargetNotFound {
  const where = searched.length
    ? searched.map((u) => `'${u}'`).join(" or ")
    : "any module: it comes from code of no module file (\`node -e\`, an eval, the REPL, stdin), "
      + "which a child cannot import";
  return new TargetNotFound(
    `${what}: target '${name}' is not exported from ${where}. A child imports the `
      + `function's module, so the function must be exported, and the module found in one of `
      + `three ways: mark it where it is defined with \`export const f = task(import.meta, ...)\`; `
      + `pass \`module: import.meta.url\` (or a URL or path) naming the module that exports it; `
      + `or export it from the module that makes this call. (In CommonJS: \`task(module, ...)\`, `
      + `\`module: __filename\`, and \`module.exports\`.)${moduleRunnerAdvice()}`,
  );
}

/**
 * In a child: imports the module of `ref` and takes the function it names. `what` names the
 * caller for errors. Throws `TargetNotFound`, naming the function, the module and the remedies,
 * when the module does not have it (and the module's own error when importing it fails).
 */
export async function findTarget(ref: TargetRef, what: string): Promise<AnyFunction> {
  if (ref.url === GLOBAL_URL) {
    const builtin = builtinAt(ref.exportName ?? "");
    if (builtin) return builtin as AnyFunction;
    throw new TargetNotFound(
      `${what}: the built-in function '${ref.exportName}' is not there in the child: run the `
        + `program's children on the runtime it runs on, or wrap the call in an exported function.`,
    );
  }
  const ns = await importModule(ref.url).catch((error) => {
    // A test file run outside its runner fails on the runner's globals (`test is not defined`),
    // or on the runner's refusal (Bun's `test()` outside `bun test`, AVA's assertion).
    const advice = moduleRunnerAdvice(error) || testFileAdvice(ref.url);
    if (!advice) throw error;
    throw new TargetNotFound(
      `${what}: the child could not import '${ref.url}' (${error}).${advice}`,
      { cause: error },
    );
  });
  if (ref.exportName !== undefined) {
    const fn = ns[ref.exportName];
    if (typeof fn === "function") return fn as AnyFunction;
    throw new TargetNotFound(
      `${what}: '${ref.exportName}' of '${ref.url}' is not a function in the child: does the `
        + `module export something else where the program does not run as the main module?`,
    );
  }
  const name = ref.name || ANONYMOUS;
  if (ref.mark !== undefined) {
    const list = marks.byModule.get(cleanModuleUrl(ref.url)) ?? [];
    const same = (f: AnyFunction) => f.name === ref.name && sameSource(f, ref);
    const at = list[ref.mark];
    if (at && same(at)) return at;
    // A mark made only where the module runs as main shifts the ordinals: match by source.
    const found = unique(list.filter(same));
    if (found) return found;
    throw new TargetNotFound(
      `${what}: the function '${name}' marked by task() in '${ref.url}' was not marked when the `
        + `child imported that module.${
          moduleRunnerAdvice()
          || ` Call task(import.meta, fn) at the module's top level, not under `
            + `isMain(import.meta) or inside a function that only the main program calls.`
        }`,
    );
  }
  const exported = Object.entries(ns).filter((e): e is [string, AnyFunction] =>
    typeof e[1] === "function" && e[1].name === ref.name && sameSource(e[1] as AnyFunction, ref)
  );
  if (exported.length === 0) throw notExported(what, name, [...ref.searched ?? [], ref.url]);
  // A function made by other code (a factory's closures) has the name and text of every function
  // that code makes: only an export under the function's own name, or one the module's text
  // declares (`export { f as g }`, `export default function f`), is that very function.
  const declared = exported.find(([key]) => key === ref.name)
    ?? await declaredExport(ref, exported);
  if (declared) return declared[1];
  const remedy = `mark the target at the module's top level where it is made, `
    + `\`export const f = task(import.meta, ...)\` (a factory's result too)`;
  if (unique(exported.map(([, fn]) => fn)) === undefined) {
    throw new TargetNotFound(
      `${what}: '${ref.url}' exports several functions named '${name}' with the same source, so `
        + `the child cannot tell which is the target: ${remedy}.`,
    );
  }
  throw new TargetNotFound(
    `${what}: target '${name}' cannot be confirmed in '${ref.url}', which was still evaluating `
      + `when it was given: its export '${exported[0][0]}' has the target's source under another `
      + `name, and may be another function made by the same code (a closure). Either ${remedy}, `
      + `or export a function declared under its own name.`,
  );
}

/**
 * The export among `exported` (functions with `ref`'s name and source, under other names) that
 * the module's text declares as that function: `export { name as key }`, or a default export
 * declared with the name. None if the text cannot be read.
 */
async function declaredExport(
  ref: TargetRef,
  exported: [string, AnyFunction][],
): Promise<[string, AnyFunction] | undefined> {
  if (ref.name === "") return undefined;
  let text: string;
  try {
    text = ref.url.startsWith("file:")
      ? readTextFile(fileUrlToPath(ref.url))
      : await (await fetch(ref.url)).text();
  } catch {
    return undefined;
  }
  // An identifier as a pattern: `$` escaped, and no identifier character on either side.
  const id = (s: string) => `(?<![\\w$])${s.replace(/\$/g, "\\$")}(?![\\w$])`;
  const name = id(ref.name);
  return exported.find(([key]) =>
    new RegExp(`\\bexport\\s*\\{[^}]*${name}\\s+as\\s+${id(key)}`).test(text)
    || key === "default"
      && new RegExp(`\\bexport\\s+default\\s+(?:async\\s+)?(?:function\\s*\\*?|class)\\s*${name}`)
        .test(text)
  );
}

/** Whether `fn`'s text is `ref`'s (when `ref` has one: not where the module's was checked). */
function sameSource(fn: AnyFunction, ref: TargetRef): boolean {
  return ref.source === undefined || sourceHash(fn) === ref.source;
}

/** The one function in `fns` (aliases of one function count once), else `undefined`. */
function unique(fns: AnyFunction[]): AnyFunction | undefined {
  const set = new Set(fns);
  return set.size === 1 ? fns[0] : undefined;
}

/** A hash of a function's source text (FNV-1a, 32 bits, with the length). */
export function sourceHash(fn: AnyFunction): string {
  const text = Function.prototype.toString.call(fn);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `${text.length.toString(36)}.${(h >>> 0).toString(36)}`;
}

function fnName(fn: AnyFunction): string {
  return fn.name || ANONYMOUS;
}

/**
 * How errors name `fn`: its name; for an anonymous function marked in a module that has
 * evaluated, the name that module exports it under.
 */
export async function describeTarget(fn: AnyFunction): Promise<string> {
  const mark = marks.byFunction.get(fn);
  if (fn.name || !mark || isEvaluating(mark.url)) return fnName(fn);
  try {
    const ns = await importModule(mark.url);
    const name = Object.keys(ns).find((key) => ns[key] === fn);
    if (name !== undefined) return name;
  } catch {
    // named as anonymous
  }
  return fnName(fn);
}
