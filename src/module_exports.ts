/**
 * Reading a module's exports from the parent, to confirm a target. Normally the module's
 * namespace (so the export is matched by identity). A module still evaluating cannot be
 * imported without deadlock — the notebook's shape: functions and `await p.join()` in one entry
 * module — so for it the export is confirmed from its source's `export` declarations instead.
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

/** Whether the source of module `url` declares an export named `name`. */
export async function sourceExports(url: string, name: string): Promise<boolean> {
  let source: string;
  try {
    source = url.startsWith("file:")
      ? readFileSync(fileURLToPath(url), "utf8")
      : await (await fetch(url)).text();
  } catch {
    return false;
  }
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
