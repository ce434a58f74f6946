/**
 * Which JavaScript runtime this code runs on. Only the runtime layer reads it.
 * @module
 */

/** The runtimes multiproc supports. */
export type RuntimeKey = "deno" | "bun" | "node";

const g = globalThis as Record<string, unknown>;

/** The runtime this module was loaded in, detected once. */
export const runtime: RuntimeKey = typeof g.Deno === "object" && g.Deno !== null
  ? "deno"
  : typeof g.Bun === "object" && g.Bun !== null
  ? "bun"
  : "node";
