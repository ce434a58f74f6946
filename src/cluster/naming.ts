/**
 * Naming code across machines. A task's function is named by its module -- a path relative to
 * the project root that every machine has checked out (as Dask and Celery expect), or a URL --
 * plus its export or `task()` mark, as on one machine. A module under the root travels with a
 * hash of its source: a worker whose copy differs fails the task instead of running other code,
 * and a worker imports nothing from outside its own root.
 * @module
 */
import {
  cleanModuleUrl,
  fileUrlToPath,
  isDirectory,
  pathToFileUrl,
  readTextFile,
  realpath,
  resolvePath,
} from "../runtime/host.ts";
import { TargetNotFound, type TargetRef } from "../targets/task.ts";

/** A function as a job names it. */
export interface RemoteRef {
  /** The module: a path relative to the root (with `/`), or a URL not of a file. */
  readonly module: string;
  readonly byUrl: boolean;
  /** SHA-256 of the module's source, hex (for a module under the root). */
  readonly hash?: string;
  readonly name: string;
  readonly exportName?: string;
  readonly mark?: number;
  readonly source?: string;
  /**
   * For logs, job names and errors: the export of an anonymous function marked by `task()`
   * (`export const f = task(import.meta, (x) => ...)`: `f`), which its mark alone does not name.
   */
  readonly label?: string;
}

/** A module a worker must not run: outside its root, missing, or not the client's source. */
export class ModuleRefused extends Error {
  override name = "ModuleRefused";
}

/** The root as an absolute, real directory path (a path or a `file:` URL). */
export function realRoot(root: string | URL, what: string): string {
  try {
    const path = typeof root === "string" && !root.startsWith("file:")
      ? root
      : fileUrlToPath(String(root));
    const real = realpath(resolvePath(path));
    if (!isDirectory(real)) throw new Error(`${real} is a file, not a directory`);
    return real;
  } catch (error) {
    throw new TypeError(
      `${what}: root '${String(root)}' is not a directory here (${(error as Error).message}): `
        + `pass the project's root directory, checked out the same on every machine.`,
      { cause: error },
    );
  }
}

/** Hex SHA-256 of the source file at `path` (or of its `text`, read already). */
async function sourceHash(path: string, text = readTextFile(path)): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The path of `path` relative to `root`, or null if it is not inside it. */
function inside(root: string, path: string): string | null {
  const prefix = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : null;
}

/** A function's name as errors show it: its export, its own name, its label or its mark. */
export function functionName(
  ref: Pick<RemoteRef, "name" | "exportName" | "label" | "mark">,
): string {
  return ref.exportName
    ?? (ref.name || ref.label || (ref.mark !== undefined ? `task #${ref.mark}` : "?"));
}

/**
 * The client's name for `ref` (a function found on this machine), relative to `root`; `label`:
 * the export of an anonymous `task()`, if known.
 */
export async function remoteRef(
  ref: TargetRef,
  root: string,
  what: string,
  label?: string,
): Promise<RemoteRef> {
  const { url, name, exportName, mark, source } = ref;
  const clean = cleanModuleUrl(url);
  const rest = { name, exportName, mark, source, ...(label === undefined ? {} : { label }) };
  if (!clean.startsWith("file:")) return { module: clean, byUrl: true, ...rest };
  const path = realpath(fileUrlToPath(clean));
  const relative = inside(root, path);
  if (relative === null) {
    throw new TypeError(
      `${what}: '${functionName(rest)}' is in ${path}, outside the cluster's root ${root}: `
        + `workers import only from their root. Move the module under the root, or give the `
        + `executor a root that holds it.`,
    );
  }
  const text = readTextFile(path);
  if (ref.exportName === undefined && mark === undefined) refuseUnexported(ref, text, what);
  const hash = await sourceHash(path, text);
  return { module: relative, byUrl: false, hash, ...rest };
}

/** A name a statement can hold. */
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Exports a module's text does not name one by one: `export *`, CommonJS's. */
const OTHER_EXPORTS = /\bexport\s*\*|\bmodule\.exports\b|\bexports\./;

/** `name` as a regular expression's text. */
const escaped = (name: string): string => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Refuses, in the caller, a function of a module that was still evaluating (its export is left
 * to the worker to confirm, by name) that no worker can find there, as far as the module's `text`
 * tells: an anonymous closure (no export has its empty name), or a function whose name no
 * `export` or `import` statement of the module mentions (no `export *`, no CommonJS exports).
 * Anything the text leaves in doubt goes to the worker, which confirms it.
 */
function refuseUnexported(ref: TargetRef, text: string, what: string): void {
  const { name, url } = ref;
  const remedy = `A worker imports the function's module and takes the function from its exports: `
    + `mark it where it is defined, \`export const f = task(import.meta, ...)\`, or export it `
    + `from its module (a closure cannot be sent).`;
  if (name === "") {
    throw new TargetNotFound(
      `${what}: the target is an anonymous function in '${url}' that no task() marks and no `
        + `export names. ${remedy}`,
    );
  }
  // Left to the worker: a name no statement could hold, a wholesale re-export, CommonJS exports.
  if (!IDENTIFIER.test(name) || OTHER_EXPORTS.test(text)) return;
  const mentioned = new RegExp(`\\b(?:export|import)\\b[^;]*\\b${escaped(name)}\\b`);
  if (mentioned.test(text)) return;
  throw new TargetNotFound(
    `${what}: target '${name}' is not exported from '${url}' (no export of the module names it). `
      + remedy,
  );
}

/**
 * The worker's target for `remote`, from its own checkout at `root`: refused (`ModuleRefused`)
 * if the module is outside the root, missing, or its source is not the client's.
 */
export async function localRef(remote: RemoteRef, root: string): Promise<TargetRef> {
  const { exportName, mark, source } = remote;
  const name = functionName(remote);
  if (remote.byUrl) return { url: remote.module, name: remote.name, exportName, mark, source };
  let path: string;
  try {
    path = realpath(`${root}/${remote.module}`);
  } catch {
    throw new ModuleRefused(
      `the module '${remote.module}' of '${name}' is not under this worker's root ${root}: check `
        + `out the same project on every machine (and pass its directory as --root).`,
    );
  }
  if (inside(root, path) === null) {
    throw new ModuleRefused(
      `the module '${remote.module}' of '${name}' resolves to ${path}, outside this worker's root `
        + `${root}: a worker imports only from its root.`,
    );
  }
  if (await sourceHash(path) !== remote.hash) {
    throw new ModuleRefused(
      `the module '${remote.module}' of '${name}' differs between the client and this worker `
        + `(its source hash is not the client's): deploy the same version of the project to `
        + `every machine.`,
    );
  }
  // The module's text is the client's, so are its marks and exports: the function's own text
  // (`source`) is not compared, which another runtime's TypeScript transpiler prints differently.
  return { url: pathToFileUrl(path).href, name: remote.name, exportName, mark };
}

/** How logs and job names call the function of `ref`. */
export function taskName(ref: RemoteRef): string {
  return `${functionName(ref)} (${ref.module})`;
}
