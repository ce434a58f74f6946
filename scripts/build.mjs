#!/usr/bin/env zx
// Builds the JavaScript entry with .d.ts types for Node (which cannot load .ts) into dist/.
import { rmSync } from "node:fs";
import { $, cd } from "zx";
import { ROOT } from "./runtimes.mjs";

cd(ROOT);
rmSync("dist", { recursive: true, force: true });
await $({ stdio: "inherit" })`tsc -p tsconfig.build.json`;
