/**
 * Reading a module's exports from the parent, to confirm a target. Normally the module's
 * namespace (so the export is matched by identity). A module still evaluating cannot be
 * imported without deadlock — the notebook's shape: functions and `await p.join()` in one entry
 * module — so for it the export is confirmed from its source's `export` declarations instead.
 * @module
 */
import { fileUrlToPath, readTextFile } from "./runtime/host.ts";
import { importModule } from "./runtime/load.ts";

interface EntryState {
  done: boolean;
}

const KEY = Symbol.for("multiproc.evaluatingEntries");
const entries: Map<string, EntryState> = ((globalThis as unknown as {
  [KEY]?: Map<string, EntryState>;
})[KEY] ??= new Map());

/** How long an import may take before the module is taken to be mid-evaluation. */
const IMPORT_PATIENCE_MS = 3000;

/** Records that the entry module `url` is evaluating its main code; learns when it is done. */
export function noteEntryEvaluating(url: string): void {
  if (entries.has(url)) return;
  const entry = { done: false };
  entries.set(url, entry);
  import(url).then(() => (entry.done = true), () => (entry.done = true));
}

/** The module's namespace, or `undefined` when it is mid-evaluation and must be read as source. */
export async function moduleNamespace(url: string): Promise<Record<string, unknown> | undefined> {
  const entry = entries.get(url);
  if (entry && !entry.done) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const patience = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), IMPORT_PATIENCE_MS);
  });
  try {
    return await Promise.race([importModule(url), patience]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a module's `source` declares an export named `name`. */
export function declaresExport(source: string, name: string): boolean {
  const n = name.replace(/[$]/g, "\\$");
  const declared = new RegExp(
    `export\\s+(?:async\\s+)?(?:function\\s*\\*?|const|let|var|class)\\s*${n}\\b`,
  );
  if (declared.test(source)) return true;
  for (const list of source.matchAll(/export\s*\{([^}]*)\}(?!\s*from)/g)) {
    for (const item of list[1].split(",")) {
      const [local, exported = local] = item.trim().split(/\s+as\s+/);
      if (local === name && exported === name) return true;
    }
  }
  return false;
}

const EXPORTED_TASK = /^\s*export\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)\b[^\n]*?=\s*task\s*\(/;

/**
 * The name exported by an `export const name = task(import.meta, ...)` declaration on `line`
 * (1-based) of a module's `source`: how an anonymous function marked by `task()` is found in a
 * module still evaluating.
 */
export function taskExportAt(source: string, line: number): string | undefined {
  return EXPORTED_TASK.exec(source.split("\n")[line - 1] ?? "")?.[1];
}

/** The source text of module `url` (a file, or fetched). Throws when it cannot be read. */
export async function moduleSource(url: string): Promise<string> {
  if (url.startsWith("file:")) return readTextFile(fileUrlToPath(url));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return await response.text();
}
