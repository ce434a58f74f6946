/**
 * Where the modules a child starts from are: the entry scripts (`src/entry/`) and the pool
 * worker, next to the library's own sources -- TypeScript in a checkout or a URL import -- or, in
 * the built package, the bundle's entry files beside its chunks (`dist/`).
 * @module
 */
import { fileExists, fileUrlToPath, libraryExtension } from "./host.ts";

/** Set to `true` by the package build (scripts/build.mjs), which bundles into one directory. */
declare const MULTIPROC_BUNDLED: boolean | undefined;
const bundled = typeof MULTIPROC_BUNDLED !== "undefined" && MULTIPROC_BUNDLED;

/**
 * The URL of this module. A bundle in CommonJS that took the library in (esbuild's
 * `--format=cjs`) has none: its `import.meta` is an empty object, from which no file of the
 * library's can be found (it failed as "Invalid URL" while the library loaded).
 */
function here(): string {
  const url = (import.meta as { url?: unknown }).url;
  if (typeof url === "string") return url;
  throw new Error(
    `multiproc cannot find its own files: its code was bundled into a CommonJS program (by `
      + `esbuild --format=cjs, webpack, ...), where import.meta.url is empty, and a child starts `
      + `from files a bundle leaves out. Keep "multiproc" external to the bundle (esbuild: `
      + `--external:multiproc) and install it beside the program (node_modules/multiproc).`,
  );
}

/** The entry script of each kind of child (src/entry/, and the bundle's `<name>-entry.js`). */
const ENTRIES = {
  worker: "web_worker",
  thread: "worker_thread",
  process: "os_process",
} as const;

/**
 * URL of the entry script for `kind` children: `"worker"` for a Web Worker, `"thread"` for a
 * `node:worker_threads` worker, `"process"` for an OS process.
 */
export function entryUrl(kind: keyof typeof ENTRIES): string {
  const name = ENTRIES[kind];
  if (bundled) return new URL(`./${name}-entry.js`, here()).href;
  return new URL(`../entry/${name}${libraryExtension(here())}`, here()).href;
}

/** `entryUrl(kind)` for a child about to start: throws if its file is missing (`present`). */
export function entryToStart(kind: keyof typeof ENTRIES): string {
  return present(entryUrl(kind));
}

/** Entry scripts found where `entryUrl` says. */
const found = new Set<string>();

/**
 * `url`, once its file is known to be there (or cannot be checked: not a file, or Deno without
 * read access). A program that bundled the library into its own code (esbuild, webpack, `bun
 * build`, `deno compile`) left the entry scripts behind: a child would fail to start, with only the
 * runtime's "module not found" to say why.
 */
function present(url: string): string {
  if (found.has(url) || !url.startsWith("file:")) return url;
  const path = fileUrlToPath(url);
  if (fileExists(path) === false) {
    throw new Error(
      `multiproc cannot start a child: its entry script '${path}' is missing. The library's `
        + `code was bundled into the program (by esbuild, webpack, rollup, \`bun build\`, \`deno `
        + `compile\`, ...), which leaves out the files a child starts from: keep "multiproc" `
        + `external to the bundle (esbuild: --external:multiproc) and install it beside the `
        + `program (node_modules/multiproc).`,
    );
  }
  found.add(url);
  return url;
}

/** URL of the module that exports `poolWorker`, the target of every pool worker. */
export function poolWorkerUrl(): string {
  if (bundled) return new URL("./pool-worker.js", here()).href;
  return new URL(`../pool/worker${libraryExtension(here())}`, here()).href;
}

/** URL of the library's root directory (of `src/` and `mod.ts` in a checkout, of `dist/`). */
export function libraryRootUrl(): string {
  return new URL(bundled ? "../" : "../../", here()).href;
}

/** URL of the library's main module (`mod.ts`, or the bundle's `mod.js`): what users import. */
export function libraryMainUrl(): string {
  if (bundled) return new URL("./mod.js", here()).href;
  return new URL(`../../mod${libraryExtension(here())}`, here()).href;
}

/**
 * URL of the library's `mod.ts`, which the checkout has and the package ships beside dist/ (a
 * TypeScript file that is always there).
 */
export function libraryModTsUrl(): string {
  return new URL(bundled ? "../mod.ts" : "../../mod.ts", here()).href;
}

/** URL of the module that exports `runTask`, which runs a cluster job in a worker's child. */
export function clusterRunnerUrl(): string {
  if (bundled) return new URL("./cluster-runner.js", here()).href;
  return new URL(`../cluster/runner${libraryExtension(here())}`, here()).href;
}

/** URL of the module that exports `serveManager`, the target of a manager process. */
export function managerServerUrl(): string {
  if (bundled) return new URL("./manager-server.js", here()).href;
  return new URL(`../manager/server${libraryExtension(here())}`, here()).href;
}
