#!/usr/bin/env zx
// Builds the package's JavaScript for Node (which cannot load .ts) into dist/ (scripts/bundle.mjs),
// and .d.ts types by tsc.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { $, cd } from "zx";
import { bundle } from "./bundle.mjs";
import { ROOT } from "./runtimes.mjs";

cd(ROOT);
rmSync("dist", { recursive: true, force: true });
await bundle(ROOT, "dist");
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
