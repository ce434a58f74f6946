/**
 * Imports a user's module in a child. On Node 20 a worker thread cannot load TypeScript even when
 * the parent runs under tsx; there tsx's `tsImport` loads it instead.
 * @module
 */
import { runtime } from "./detect.ts";

const TS_EXTENSION = /\.[mc]?tsx?$/;

/** Imports `url` and returns its namespace object. */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return await import(url);
  } catch (error) {
    const path = url.split("?")[0];
    if (runtime !== "node" || !TS_EXTENSION.test(path) || !isUnknownExtension(error)) throw error;
    return await tsImport(url);
  }
}

function isUnknownExtension(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "ERR_UNKNOWN_FILE_EXTENSION";
}

async function tsImport(url: string): Promise<Record<string, unknown>> {
  let api: { tsImport(url: string, parent: string): Promise<Record<string, unknown>> };
  try {
    api = await import("tsx/esm/api" as string);
  } catch {
    try {
      const { createRequire } = await import("node:module");
      api = await import(createRequire(url).resolve("tsx/esm/api"));
    } catch {
      throw new Error(
        `Cannot load TypeScript module '${url}' in a Node worker thread: install tsx `
          + `(npm install tsx) and run the program under it, or use compiled JavaScript.`,
      );
    }
  }
  return await api.tsImport(url, url);
}
