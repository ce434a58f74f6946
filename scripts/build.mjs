#!/usr/bin/env zx
// Builds the package's JavaScript for Node (which cannot load .ts) into dist/: one bundle split
// into shared chunks (a child loads a handful of files, not the ~70 modules of the source: tens
// of milliseconds less start-up per child), with entry files for the main module, the three child
// entry scripts and the pool worker side by side; and .d.ts types by tsc.
import { build } from "esbuild";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import { ROOT } from "./runtimes.mjs";

cd(ROOT);
rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: {
    "mod": "mod.ts",
    "process-entry": "src/entry/process.ts",
    "thread-entry": "src/entry/thread.ts",
    "worker-entry": "src/entry/worker.ts",
    "pool-worker": "src/pool/worker.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "es2022",
  // Loaded only on their runtime, from the user's installation.
  external: ["koffi", "bun:ffi"],
  // src/runtime/entry_url.ts: the entry files are in the same directory as every chunk.
  define: { MULTIPROC_BUNDLED: "true" },
  chunkNames: "chunk-[hash]",
  sourcemap: true,
  logLevel: "warning",
});
await $({ stdio: "inherit" })`tsc -p tsconfig.build.json`;

// tsc rewrites `.ts` specifiers in the JavaScript it emits but not in declaration files: do it
// there too, so that TypeScript users of the package resolve them.
for (const entry of readdirSync("dist", { recursive: true })) {
  const path = `dist/${entry}`;
  if (!path.endsWith(".d.ts")) continue;
  const text = readFileSync(path, "utf8");
  const fixed = text.replace(/(["'])(\.{1,2}\/[^"']+)\.ts\1/g, "$1$2.js$1");
  if (fixed !== text) writeFileSync(path, fixed);
}
