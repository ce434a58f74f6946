/**
 * Imports a user's module in a child. On Node, a TypeScript module is imported with the loader
 * the program was started with (src/runtime/node_loader.ts): a child that was not started with
 * it, or a worker thread where it did not register itself, takes it up first.
 * @module
 */
import { runtime } from "./detect.ts";
import { builtin, cleanModuleUrl, fileUrlToPath, readTextFile } from "./host.ts";
import { moduleRunnerAdvice } from "./module_runner.ts";
import { nodeStripsTypes, prepareImport, TS_EXTENSION } from "./node_loader.ts";

/** Namespaces imported so far: a second import of one (a warm spare's target) takes no trip. */
const imported = new Map<string, Record<string, unknown>>();

/** Modules the program holds in place of a file, by URL (`provideModule`). */
const provided = new Map<string, () => Promise<Record<string, unknown>>>();

/**
 * Makes `load()` what `importModule(url)` imports: a single-file executable holds the library's
 * own modules that children run (the pool worker, ...) in itself, not at their URLs.
 */
export function provideModule(url: string, load: () => Promise<Record<string, unknown>>): void {
  provided.set(url, load);
}

/** Imports `url` and returns its namespace object. */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  const known = imported.get(url);
  if (known) return known;
  const ns = await (provided.get(url)?.() ?? importFresh(url));
  imported.set(url, ns);
  return ns;
}

async function importFresh(url: string): Promise<Record<string, unknown>> {
  if (runtime === "node") await prepareImport(url);
  const typeScript = runtime === "node" && TS_EXTENSION.test(cleanModuleUrl(url));
  if (typeScript && nodeStripsTypes()) requireCommonJs(cleanModuleUrl(url));
  try {
    return await import(url);
  } catch (error) {
    if (!typeScript || (error as { code?: string } | null)?.code !== "ERR_UNKNOWN_FILE_EXTENSION") {
      throw error;
    }
    throw new Error(
      `Cannot load TypeScript module '${url}': Node ${globalThis.process.version} `
        + (nodeStripsTypes() ? "" : "does not strip types and ")
        + `the program runs under no TypeScript loader its children could reuse. Run it under `
        + `tsx (node --import tsx), on Node 22.18 or later, or as compiled JavaScript.`
        + moduleRunnerAdvice(),
      { cause: error },
    );
  }
}

/**
 * Loads a CommonJS TypeScript module (`.cts`, or `.ts` outside a `"type": "module"` package) with
 * Node's CommonJS loader, as the parent's was: Node 22's own type stripping imports one through
 * its ES-module loader, whose `require("multiproc")` there failed in a child, which had loaded
 * the library already ("request for './chunk-....js' is from a module not been linked"). The
 * `import()` after it then takes the module from the CommonJS cache. An ES module after all (one
 * Node detects by its syntax) is left to `import()`.
 */
function requireCommonJs(url: string): void {
  if (!url.startsWith("file:") || url.endsWith(".mts")) return;
  if (!url.endsWith(".cts") && packageType(url) === "module") return;
  const path = fileUrlToPath(url);
  const { createRequire } = builtin<typeof import("node:module")>("node:module");
  try {
    createRequire(path)(path);
  } catch (error) {
    const code = (error as { code?: string } | null)?.code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw error;
  }
}

/** The `"type"` of the package.json nearest above the module at the file URL `url`, if any. */
function packageType(url: string): unknown {
  for (let dir = new URL(".", url);; dir = new URL("..", dir)) {
    try {
      return (JSON.parse(readTextFile(fileUrlToPath(new URL("package.json", dir)))) as {
        type?: unknown;
      }).type;
    } catch {
      if (dir.pathname === "/") return undefined;
    }
  }
}
