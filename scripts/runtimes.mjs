// How each runtime runs a TypeScript entry of this checkout (shared by the zx scripts).
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The argv prefix that runs a TypeScript file on `runtime`. */
export const RUN = {
  deno: ["deno", "run", "-A"],
  bun: ["bun"],
  node: ["node", "--import", "tsx"],
};

export const RUNTIMES = Object.keys(RUN);

/** The argv prefix that runs a JavaScript bench fixture on `runtime`. */
export const JS = { deno: ["deno", "run", "-A"], bun: ["bun"], node: ["node"] };

/**
 * The library entry bench fixtures import (MULTIPROC_ENTRY): Node users run the built JavaScript
 * (Node 20 cannot load .ts), so Node is benched against dist/ (build it first).
 */
export const ENTRY = { deno: "../../mod.ts", bun: "../../mod.ts", node: "../../dist/mod.js" };
