/**
 * The module loader a Node program was started with -- its `--import`, `--require` and `--loader`
 * flags (in `process.execArgv` or `NODE_OPTIONS`) -- reused by its children, so that they load
 * modules as the parent does:
 *
 * - A `"process"` child gets the parent's flags. tsx among them waits when the child's entry is
 *   built JavaScript (the package's dist/): the child loads tsx, exactly as the parent was given
 *   it, before it first imports a module of the program's own (TypeScript, or any file outside
 *   `node_modules`). A child that imports none never boots tsx, and the library's own files
 *   never go through tsx's hooks.
 * - A worker thread gets the parent's flags too, tsx's among them deferred in the same way when
 *   its entry is built JavaScript: it loads tsx before it first imports a module of the
 *   program's own, so that the library's files are not loaded through tsx's hooks (on Node 22
 *   those cost a thread ~13 MB: tsx rewrites every chunk's dynamic imports and turns source maps
 *   on, and Node then reads the chunks' maps). tsx registers its hooks in worker threads only on
 *   recent Node (22.22.3+, 24.11.1+); elsewhere (Node 20) the thread registers the hooks of the
 *   parent's tsx -- found from the flags, resolved against the working directory, never by the
 *   bare name `tsx` -- before it imports a module of the program's own. On Node 20 that starts a
 *   module-hooks thread per worker (Node 20 has no in-thread hooks), ~14 MB: the price of
 *   TypeScript in a thread there.
 * - Where Node strips types itself (22.18+, 23.6+) and the parent has no loader, children have
 *   none either: the library adds no loader of its own.
 *
 * Node only: nothing here runs on Deno or Bun, but for `nodeWorker` starting Deno's
 * `node:worker_threads` workers (daemon threads) as they are, with no loader.
 * @module
 */
import { type GlobalName, readGlobal, writeGlobal } from "../core/process_wide.ts";
import { libraryModTsUrl } from "./entry_url.ts";
import {
  builtin,
  cleanModuleUrl,
  currentDir,
  fileUrlToPath,
  originalDir,
  pathToFileUrl,
  resolvePath,
} from "./host.ts";
import { quietTestFlags, TEST_FLAG, withoutTestContext } from "./node_test.ts";

/** What a module path that only a TypeScript loader (or Node's type stripping) can load ends in. */
export const TS_EXTENSION: RegExp = /\.[mc]?tsx?$/;

/**
 * The environment variable that hands a `"process"` child the parent's TypeScript loader flags
 * it has not been started with (JSON: `[flag, absolute specifier][]`).
 */
export const DEFERRED_LOADER_VARIABLE = "MULTIPROC_NODE_LOADER";

type LoaderKind = "--import" | "--require" | "--loader";

const LOADER_FLAGS = new Map<string, LoaderKind>([
  ["--import", "--import"],
  ["--require", "--require"],
  ["-r", "--require"],
  ["--loader", "--loader"],
  ["--experimental-loader", "--loader"],
]);

/** One loader flag of an argv list: where it is (one token `--import=x`, or two) and what. */
interface LoaderFlag {
  readonly kind: LoaderKind;
  readonly specifier: string;
  readonly start: number;
  readonly count: 1 | 2;
}

/** The loader flags of `argv` (execArgv form: `--import x` or `--import=x`). */
function loaderFlags(argv: readonly string[]): LoaderFlag[] {
  const out: LoaderFlag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const kind = LOADER_FLAGS.get(eq === -1 ? arg : arg.slice(0, eq));
    if (!kind) continue;
    if (eq !== -1) out.push({ kind, specifier: arg.slice(eq + 1), start: i, count: 1 });
    else if (i + 1 < argv.length) out.push({ kind, specifier: argv[++i], start: i - 1, count: 2 });
  }
  return out;
}

/** `NODE_OPTIONS` split into arguments (whitespace-separated; double quotes group). */
function nodeOptions(): string[] {
  const text = globalThis.process.env.NODE_OPTIONS ?? "";
  return [...text.matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]
  );
}

/**
 * The file a loader specifier names, resolved as Node resolved it at start-up: a path or
 * `file:` URL as it is, a relative path against the working directory of then
 * (`originalDir()`), a package name from that directory's `node_modules`. `undefined` when it
 * names no file.
 */
function loaderPath(specifier: string): string | undefined {
  try {
    if (specifier.startsWith("file:")) return fileUrlToPath(specifier);
    if (specifier.startsWith("/")) return specifier;
    if (/^\.\.?(\/|$)/.test(specifier)) return resolvePath(`${originalDir()}/${specifier}`);
    if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined; // node:, data:, http:
    const { createRequire } = builtin<typeof import("node:module")>("node:module");
    return createRequire(`${originalDir()}/`).resolve(specifier);
  } catch {
    return undefined;
  }
}

/** The specifier made absolute (a `file:` URL for `--import`/`--loader`, a path for `--require`). */
function absoluteSpecifier(kind: LoaderKind, specifier: string): string {
  const path = loaderPath(specifier);
  if (path === undefined) return specifier;
  return kind === "--require" ? path : pathToFileUrl(path).href;
}

/** The directory of the tsx package that `path` is in, if it is in one. */
function tsxPackageOf(path: string): string | undefined {
  const fs = builtin<typeof import("node:fs")>("node:fs");
  for (
    let dir = path.slice(0, path.lastIndexOf("/"));
    dir;
    dir = dir.slice(0, dir.lastIndexOf("/"))
  ) {
    let name: unknown;
    try {
      name = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8")).name;
    } catch {
      continue; // no package.json here (or not one to read): look further up
    }
    if (name !== undefined) return name === "tsx" ? dir : undefined;
  }
  return undefined;
}

/** The `file:` URL of the ESM API (`tsx/esm/api`) of the tsx package in `dir`. */
function tsxApiUrl(dir: string): string {
  const fs = builtin<typeof import("node:fs")>("node:fs");
  let target: unknown;
  try {
    const entry = JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8")).exports?.["./esm/api"];
    target = typeof entry === "string" ? entry : entry?.import?.default ?? entry?.import;
  } catch {
    // an unreadable manifest: tsx 4's layout below
  }
  return pathToFileUrl(`${dir}/${typeof target === "string" ? target : "dist/esm/api/index.mjs"}`)
    .href;
}

/** The parent's loader flags a `"process"` child was not started with (see the module doc). */
function deferredFlags(): [LoaderKind, string][] {
  const text = globalThis.process.env[DEFERRED_LOADER_VARIABLE];
  if (!text) return [];
  try {
    const flags = JSON.parse(text) as [LoaderKind, string][];
    return Array.isArray(flags) ? flags : [];
  } catch {
    return [];
  }
}

/** Whether this Node strips TypeScript types itself (22.18+ and 23.6+ by default). */
export function nodeStripsTypes(): boolean {
  const features = globalThis.process.features as { typescript?: string | false };
  return Boolean(features.typescript);
}

/** The tsx package among this program's loaders (given, inherited or deferred), if any. */
function programTsx(): { dir: string; api: string } | undefined {
  const specifiers = [
    ...deferredFlags().map(([, s]) => s),
    ...loaderFlags(globalThis.process.execArgv).map((f) => f.specifier),
    ...loaderFlags(nodeOptions()).map((f) => f.specifier),
  ];
  for (const specifier of specifiers) {
    const path = loaderPath(specifier);
    const dir = path === undefined ? undefined : tsxPackageOf(path);
    if (dir) return { dir, api: tsxApiUrl(dir) };
  }
  return undefined;
}

/**
 * `execArgv` without the flags `drop` matches, nor their values given apart (`--flag value`:
 * `execArgv` holds only Node's options, so a word that is not one is the value of the one before).
 */
function withoutFlags(execArgv: readonly string[], drop: (flag: string) => boolean): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i];
    if (!drop(flag)) kept.push(flag);
    else if (!flag.includes("=") && execArgv[i + 1]?.startsWith("-") === false) i++;
  }
  return kept;
}

/**
 * Flags that give the parent's program instead of a script (`-e`/`--eval`, `-p`/`--print`,
 * `-pe`, `--input-type`, `-i`, `--check`), which a child must not get: with them it runs the
 * parent's code again instead of its entry (under `node -e`, every `"process"` child ran the
 * program and started a pool of its own, and so on), and a worker thread refuses to start.
 */
const INPUT_FLAG = /^(?:--(?:eval|print|input-type|interactive|check)(?:=|$)|-(?:[ep]{1,2}|i|c)$)/;

/**
 * The `execArgv` and extra environment of a `"process"` child: the parent's flags (`execArgv`)
 * without the parent's program (`INPUT_FLAG`) and those `isParentOnly` names, and without tsx's
 * when the child's entry `entryUrl` is JavaScript: those go in the environment, loaded before the
 * child first imports a module of the program's (`prepareImport`). A TypeScript entry (a
 * checkout's sources) starts under them: tsx's cached transpilation of the library's ~70 modules
 * is quicker than Node's own type stripping.
 */
export function processChildLoader(
  entryUrl: string,
  isParentOnly: (flag: string) => boolean,
  execArgv: readonly string[] = globalThis.process.execArgv,
): { execArgv: string[]; env?: Record<string, string> } {
  const argv = withoutFlags(execArgv, (flag) => INPUT_FLAG.test(flag) || isParentOnly(flag));
  if (TS_EXTENSION.test(cleanModuleUrl(entryUrl))) return { execArgv: argv };
  const tsx = loaderFlags(argv).filter((f) => {
    const path = f.kind === "--loader" ? undefined : loaderPath(f.specifier);
    return path !== undefined && tsxPackageOf(path) !== undefined;
  });
  if (tsx.length === 0) return { execArgv: argv };
  const deferred = deferredFlags();
  for (const f of tsx) {
    const flag: [LoaderKind, string] = [f.kind, absoluteSpecifier(f.kind, f.specifier)];
    if (!deferred.some(([k, s]) => k === flag[0] && s === flag[1])) deferred.push(flag);
  }
  const dropped = new Set(tsx.flatMap((f) => f.count === 2 ? [f.start, f.start + 1] : [f.start]));
  return {
    execArgv: argv.filter((_, i) => !dropped.has(i)),
    env: { [DEFERRED_LOADER_VARIABLE]: JSON.stringify(deferred) },
  };
}

/**
 * The `execArgv` and extra environment of a Node worker thread whose entry is `entryUrl`, when
 * they differ from what it would inherit: the parent's flags without its program's (`-e` and
 * the like) and without tsx's, which go in the environment (as `processChildLoader` does for a
 * `"process"` child) for `prepareImport` to load before the thread first imports a module of the
 * program's own. `undefined` when the thread inherits the parent's flags as they are.
 */
export function threadChildLoader(
  entryUrl: string,
  execArgv: readonly string[] = globalThis.process.execArgv,
): { execArgv: string[]; env?: Record<string, string> } | undefined {
  const loader = processChildLoader(entryUrl, () => false, execArgv);
  // A thread resolves its flags against the process's directory of now: once the program has
  // moved, each is given as the file it named at start-up.
  if (currentDir() !== originalDir()) return { ...loader, execArgv: anchored(loader.execArgv) };
  return loader.env || loader.execArgv.length !== execArgv.length ? loader : undefined;
}

/** `argv` with each loader flag's specifier made absolute (`absoluteSpecifier`). */
function anchored(argv: readonly string[]): string[] {
  const out = [...argv];
  for (const f of loaderFlags(argv)) {
    const absolute = absoluteSpecifier(f.kind, f.specifier);
    if (f.count === 2) out[f.start + 1] = absolute;
    else out[f.start] = `${argv[f.start].slice(0, argv[f.start].indexOf("="))}=${absolute}`;
  }
  return out;
}

/**
 * A worker of `source` with `options` (`Worker` is `node:worker_threads`'), started as
 * `threadChildLoader` says for the entry `entryUrl` (on Node; `undefined` on Deno). Flags
 * Node takes from a parent but refuses in an explicit `execArgv` (process-wide ones such as
 * `--expose-gc` or `--max-old-space-size`, which apply to every thread anyway) are left out;
 * should it refuse others, the worker inherits the parent's flags, tsx's among them.
 */
export function nodeWorker(
  Worker: typeof import("node:worker_threads").Worker,
  source: string | URL,
  options: import("node:worker_threads").WorkerOptions,
  entryUrl: string | undefined,
): import("node:worker_threads").Worker {
  const loader = entryUrl === undefined ? undefined : testQuietThread(threadChildLoader(entryUrl));
  if (loader) {
    const env = loader.env && { env: loader.env };
    let execArgv = loader.execArgv;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return new Worker(source, { ...options, execArgv, ...env });
      } catch (error) {
        const refused = refusedWorkerFlags(error);
        if (!refused) throw error;
        execArgv = execArgv.filter((flag) => !refused.includes(flag));
      }
    }
  }
  return new Worker(source, options);
}

/**
 * A Node thread's flags and whole environment (from `threadChildLoader`'s): in a test file's
 * process, without its test flags and the runner's variable, and with the flags that keep tests
 * quiet in the thread (node_test.ts); elsewhere as they were (or inherited).
 */
function testQuietThread(
  loader: { execArgv: string[]; env?: Record<string, string> } | undefined,
): { execArgv: string[]; env?: Record<string, string | undefined> } | undefined {
  const env = loader?.env && { ...globalThis.process.env, ...loader.env };
  const quiet = quietTestFlags();
  if (quiet.length === 0) return loader && { execArgv: loader.execArgv, env };
  return {
    execArgv: [
      ...withoutFlags(loader?.execArgv ?? globalThis.process.execArgv, (f) => TEST_FLAG.test(f)),
      ...quiet,
    ],
    env: withoutTestContext(env ?? globalThis.process.env),
  };
}

/** The flags an ERR_WORKER_INVALID_EXEC_ARGV error names, or `undefined` for another error. */
function refusedWorkerFlags(error: unknown): string[] | undefined {
  const e = error as { code?: string; message?: string } | null;
  if (e?.code !== "ERR_WORKER_INVALID_EXEC_ARGV") return undefined;
  const list = /flags: (.*)$/.exec(e.message ?? "")?.[1];
  return list ? list.split(", ") : [];
}

/**
 * The URL of the parent's tsx API a Node worker thread must register tsx's hooks from before it
 * imports its entry `entryUrl`: when that is TypeScript (a checkout's sources) and this Node does
 * not strip types (Node 20: there tsx never registers itself in worker threads). Where Node
 * strips types it loads the library's erasable sources itself. `undefined` when there is nothing
 * to do, or no tsx to do it with.
 */
export function threadEntryTsx(entryUrl: string): string | undefined {
  if (!TS_EXTENSION.test(cleanModuleUrl(entryUrl)) || nodeStripsTypes()) return undefined;
  return programTsx()?.api;
}

/** Set in a thread once tsx's hooks are registered in it (by the thread's prelude or here). */
export const TSX_REGISTERED: GlobalName = "tsxRegistered";

let loading: Promise<void> | undefined;
let registering: Promise<void> | undefined;

/**
 * Makes this thread ready to import the user's module `url` as the program's first thread would:
 * a `"process"` child that was not started with the parent's tsx loads it, exactly as the parent
 * was given it, before the first TypeScript module or module of the user's own (a `file:` outside
 * `node_modules`: it may import TypeScript); a worker thread whose inherited tsx did not register
 * its hooks registers them from the same tsx before the first TypeScript module. Once per thread.
 */
export async function prepareImport(url: string): Promise<void> {
  if (readGlobal<boolean>(TSX_REGISTERED)) return;
  const clean = cleanModuleUrl(url);
  const typeScript = TS_EXTENSION.test(clean);
  if (!typeScript && !(clean.startsWith("file:") && !clean.includes("/node_modules/"))) return;
  const deferred = deferredFlags();
  // No loader to take up on any thread (a JavaScript program): done, without loading
  // node:worker_threads to ask which thread this is (4-5 ms of a Node child's start).
  if (deferred.length === 0 && programTsx() === undefined) return;
  const { isMainThread } = builtin<typeof import("node:worker_threads")>("node:worker_threads");
  if (isMainThread) {
    if (deferred.length) {
      await (loading ??= retryable(loadDeferred(deferred), () => loading = undefined));
    }
  } else {
    const probe = typeScript ? clean : libraryModTsUrl();
    await (registering ??= retryable(
      prepareThread(deferred, probe),
      () => registering = undefined,
    ));
  }
}

/**
 * Makes a worker thread load TypeScript as the program does: the parent's tsx flags it was not
 * started with (`threadChildLoader`), then tsx's hooks registered here if those did not register
 * them in a worker thread (Node 20; `probe` is a TypeScript file they must resolve).
 */
async function prepareThread(deferred: [LoaderKind, string][], probe: string): Promise<void> {
  if (deferred.length) await loadFlags(deferred);
  await registerInThread(probe);
}

/** `promise`, calling `reset` if it rejects (so that the next caller tries again). */
function retryable(promise: Promise<void>, reset: () => void): Promise<void> {
  return promise.catch((error) => {
    reset();
    throw error;
  });
}

/** Loads the parent's loader flags this process was not started with, in their order. */
async function loadDeferred(deferred: [LoaderKind, string][]): Promise<void> {
  await loadFlags(deferred);
  writeGlobal(TSX_REGISTERED, true);
}

/** Loads loader flags in their order, as if this thread had been started with them. */
async function loadFlags(deferred: [LoaderKind, string][]): Promise<void> {
  const { createRequire } = builtin<typeof import("node:module")>("node:module");
  const require = createRequire(`${originalDir()}/`);
  const execArgv = globalThis.process.execArgv;
  for (const [kind, specifier] of deferred) {
    if (kind === "--require") require(specifier);
    else await import(specifier);
    // As if started with it: a child process this one forks gets it, as the parent's would.
    if (!loaderFlags(execArgv).some((f) => f.specifier === specifier)) {
      execArgv.push(kind, specifier);
    }
  }
}

/**
 * Registers the program's tsx in this worker thread unless it registered itself here (its hooks
 * resolve the TypeScript file `url` without its extension).
 */
async function registerInThread(url: string): Promise<void> {
  const tsx = programTsx();
  if (!tsx || hooksResolveTypeScript(url)) return;
  const api = await import(tsx.api) as { register(): unknown };
  api.register();
  writeGlobal(TSX_REGISTERED, true);
}

/**
 * Whether this thread's module hooks resolve TypeScript the way tsx does (an extensionless
 * specifier finds the TypeScript file `url`): then tsx registered itself here and needs no second
 * copy. Node's own resolution finds no file without its extension.
 */
function hooksResolveTypeScript(url: string): boolean {
  const clean = cleanModuleUrl(url);
  const ext = TS_EXTENSION.exec(clean);
  if (!ext) return false;
  try {
    return TS_EXTENSION.test(cleanModuleUrl(import.meta.resolve(clean.slice(0, ext.index))));
  } catch {
    return false;
  }
}
