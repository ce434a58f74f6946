#!/usr/bin/env node
// The import-layer check (`npm test -- lint`): every module of src/ belongs to the layer of its
// folder, and imports only from its own layer or the layers below it. The order is the one
// docs/architecture.md draws; a back-edge (an import of a higher layer, static, dynamic or
// type-only) fails the check, naming the file, the line and the two layers. It also checks what
// every module must be whatever its layer: no await at its top level, ASCII text only.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Lowest first. A folder of src/ (or mod.ts) per layer; a layer may span folders. */
export const LAYERS = [
  ["core", ["src/core"]],
  ["runtime", ["src/runtime"]],
  ["state", ["src/state"]],
  ["targets", ["src/targets"]],
  ["memory", ["src/memory"]],
  ["handles", ["src/handles"]],
  ["sync", ["src/sync"]],
  ["values", ["src/values"]],
  ["channels", ["src/channels"]],
  ["connection", ["src/connection"]],
  ["proxy", ["src/proxy"]],
  ["process", ["src/process"]],
  ["futures", ["src/futures"]],
  ["pool", ["src/pool"]],
  ["cluster", ["src/cluster"]],
  ["manager", ["src/manager"]],
  ["context", ["src/context.ts"]],
  ["entry", ["src/entry", "mod.ts"]],
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function layerOf(file) {
  const rel = relative(ROOT, file).replaceAll("\\", "/");
  const i = LAYERS.findIndex(([, dirs]) => dirs.some((d) => rel === d || rel.startsWith(`${d}/`)));
  return i < 0 ? null : i;
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(["'])(\.[^"']+)\1/gm;
/** A statement at a module's top level (not indented) that awaits. */
const TOP_LEVEL_AWAIT =
  /^(?:for\s+await\b|(?:(?:export\s+)?(?:const|let|var)\s[^=\n]*=\s*)?await\b)/gm;

/**
 * A character outside ASCII. V8 keeps a module's text as one string, of one byte per character
 * only if every character fits in one: a single dash in a comment makes the whole module's text
 * two bytes a character, in every process that loads it (measured: a 2.47 MB module emitted by
 * Deno, 2.3 MB more resident memory with one em dash; Node 20 and Deno importing dist/mod.js,
 * whose chunks keep the comments, 0.26 and 0.35 MB less once all were ASCII). Comments spell
 * `->`, `--`, `<=` instead; a string that needs one escapes it (`\u2014`).
 */
const NON_ASCII = /[^\x00-\x7f]/g;

/** The back-edges, unplaced files and non-ASCII characters of the tree at `root`. */
export function check(root = ROOT) {
  const problems = [];
  const all = [...files(join(root, "src")), join(root, "mod.ts")];
  for (const file of all) {
    const from = layerOf(file);
    const rel = relative(root, file);
    if (from === null) {
      problems.push(`${rel}: in no layer (put it in a layer's folder, see scripts/layers.mjs)`);
      continue;
    }
    const text = readFileSync(file, "utf8");
    // A child's entry reaches most modules: one that awaits at its top level would let a Web
    // Worker child's boot message arrive before the child listens (and be lost, on Bun).
    for (const m of text.matchAll(TOP_LEVEL_AWAIT)) {
      const line = text.slice(0, m.index).split("\n").length;
      problems.push(`${rel}:${line}: awaits at its top level; do it at the first use instead`);
    }
    for (const m of text.matchAll(NON_ASCII)) {
      const line = text.slice(0, m.index).split("\n").length;
      problems.push(
        `${rel}:${line}: "${m[0]}" is not ASCII; spell it in ASCII (or escape it in a string): a `
          + `module with one such character costs twice its text in memory`,
      );
    }
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[2]);
      const to = layerOf(target);
      if (to === null || to <= from) continue;
      const line = text.slice(0, m.index).split("\n").length;
      problems.push(
        `${rel}:${line}: the ${LAYERS[from][0]} layer imports ${relative(root, target)} of the `
          + `higher ${LAYERS[to][0]} layer (order: ${LAYERS.map(([n]) => n).join(" → ")})`,
      );
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = check();
  for (const p of problems) console.error(p);
  console.log(
    problems.length
      ? `layers: ${problems.length} problem(s)`
      : "layers: no back-edge, no top-level await, ASCII only",
  );
  process.exit(problems.length ? 1 : 0);
}
