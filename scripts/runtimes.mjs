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
