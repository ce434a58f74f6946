/**
 * Node children load modules exactly as their parent does, with the loader the parent was given
 * as it was given — here tsx by its path (`--import /…/tsx/dist/esm/index.mjs`, or the `tsx`
 * command, which passes its files by path) from a directory where `tsx` is no package name, as
 * with a global tsx. A TypeScript program (fixtures/node_loader/app.ts) starts a Process and a
 * pool there under both start methods, with the library as the checkout's mod.ts and as a bundle
 * of it like the package's dist/. Where Node strips types itself, it also runs with no loader.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  DEFERRED_LOADER_VARIABLE,
  processChildLoader,
  threadChildLoader,
} from "../src/runtime/node_loader.ts";
import { METHODS, type Ran, runCommand, RUNTIME, tempDir } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSX = join(ROOT, "node_modules", "tsx", "dist");
const APP = fileURLToPath(new URL("./fixtures/node_loader/app.ts", import.meta.url));

const skip = RUNTIME === "node" ? false : "Node's loader flags and worker threads: Node only";
const stripsTypes = RUNTIME === "node"
  && Boolean((process.features as { typescript?: string | false }).typescript);

/** The ways the program is run: tsx by path, as `--import` and as the `tsx` command. */
const WAYS: { name: string; argv: string[] }[] = [
  {
    name: "--import <path of tsx/dist/esm/index.mjs>",
    argv: ["--import", join(TSX, "esm", "index.mjs")],
  },
  { name: "the tsx command by path", argv: [join(TSX, "cli.mjs")] },
  ...(stripsTypes ? [{ name: "no loader (Node strips types)", argv: [] }] : []),
];

/** Bundles the library as scripts/build.mjs does for the package (its JavaScript only). */
async function bundle(outdir: string): Promise<string> {
  const script = pathToFileURL(join(ROOT, "scripts", "bundle.mjs")).href;
  const { bundle: make } = await import(script) as {
    bundle(root: string, outdir: string, options: { sourcemap: boolean }): Promise<void>;
  };
  await make(ROOT, outdir, { sourcemap: false });
  return pathToFileURL(join(outdir, "mod.js")).href;
}

/** Runs `argv` with Node in `cwd` to its end (killed after 60 s). */
function run(argv: string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  const e: Record<string, string | undefined> = { ...process.env, ...env };
  delete e.NODE_OPTIONS; // the program's loader is the one on its command line
  delete e.NODE_TEST_CONTEXT;
  return runCommand(process.execPath, argv, { cwd, env: e, timeoutMs: 60_000 });
}

test("Node children reuse the parent's loader as given (tsx by path, not resolvable by name)", {
  skip,
  timeout: 600_000,
}, async (t) => {
  const dir = tempDir();
  // A project of its own: ESM, no node_modules (no `tsx` to find by name, here or above).
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  copyFileSync(APP, join(dir, "app.ts"));
  for (const file of ["square_exit.mjs", "square.ts"]) {
    copyFileSync(new URL(`./fixtures/node_loader/${file}`, import.meta.url), join(dir, file));
  }
  // The bundle's directory is named dist/, as in the package: the library knows its own frames.
  mkdirSync(join(dir, "pkg", "dist"), { recursive: true });
  const entries = [
    { name: "the checkout's mod.ts", url: pathToFileURL(join(ROOT, "mod.ts")).href },
    { name: "a bundle like the package's dist/", url: await bundle(join(dir, "pkg", "dist")) },
  ];
  for (const entry of entries) {
    for (const way of WAYS) {
      for (const method of METHODS) {
        const name = `${way.name}, ${entry.name}, ${method}`;
        await t.test(name, async () => {
          const r = await run([...way.argv, "app.ts", method], dir, {
            MULTIPROC_ENTRY: entry.url,
          });
          const out = `exit code ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
          const last = r.stdout.trim().split("\n").pop() ?? "";
          let result: unknown;
          try {
            result = JSON.parse(last);
          } catch {
            assert.fail(`${name}: no JSON line at the end\n${out}`);
          }
          assert.deepEqual(
            result,
            { method, exitCode: 7, jsTarget: 9, squares: [1, 4, 9] },
            `${name}\n${out}`,
          );
          assert.equal(r.code, 0, `${name}\n${out}`);
          assert.doesNotMatch(r.stderr, /Cannot find package 'tsx'/, `${name}\n${out}`);
        });
      }
    }
  }
});

test("a process child of a JavaScript program run with no loader loads no node:worker_threads", {
  skip,
  timeout: 120_000,
}, async () => {
  // Asking which thread imports the user's module loads node:worker_threads (4-5 ms of a child's
  // start on Node 20): with no loader to take up, the child does not ask.
  const dir = tempDir();
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  copyFileSync(
    new URL("./fixtures/node_loader/builtins.mjs", import.meta.url),
    join(dir, "app.mjs"),
  );
  mkdirSync(join(dir, "pkg", "dist"), { recursive: true });
  const entry = await bundle(join(dir, "pkg", "dist"));
  const r = await run(["app.mjs"], dir, { MULTIPROC_ENTRY: entry });
  const out = `exit code ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.equal(r.code, 0, out);
  assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop() ?? ""), { child: false }, out);
});

test("a process child of the package defers tsx until it imports TypeScript; of the sources, not", {
  skip,
}, () => {
  const parentOnly = (flag: string) => flag.startsWith("--test");
  const argv = ["--enable-source-maps", "--import", "tsx", "--test", "--require=./setup.cjs"];
  const esm = pathToFileURL(realpathSync(join(TSX, "loader.mjs"))).href; // as Node resolves it
  // The package's entry is JavaScript: tsx (resolved from the working directory, the checkout)
  // moves to the environment by its absolute URL; every other flag stays as given.
  const built = processChildLoader(
    "file:///app/node_modules/multiproc/dist/process-entry.js",
    parentOnly,
    argv,
  );
  assert.deepEqual(built.execArgv, ["--enable-source-maps", "--require=./setup.cjs"]);
  assert.deepEqual(JSON.parse(built.env?.[DEFERRED_LOADER_VARIABLE] ?? "[]"), [["--import", esm]]);
  // The checkout's entry is TypeScript: the child starts under the parent's flags.
  const source = processChildLoader(
    pathToFileURL(join(ROOT, "src/entry/os_process.ts")).href,
    parentOnly,
    argv,
  );
  assert.deepEqual(source, {
    execArgv: ["--enable-source-maps", "--import", "tsx", "--require=./setup.cjs"],
  });
  // A parent-only flag's value given apart goes with it (`node --test --test-name-pattern x`).
  assert.deepEqual(
    processChildLoader("file:///x/process-entry.js", parentOnly, [
      "--test-name-pattern",
      "unhandled",
      "--stack-size",
      "2000",
      "--test-reporter=tap",
      "--test",
    ]).execArgv,
    ["--stack-size", "2000"],
  );
  // No tsx: nothing deferred.
  assert.deepEqual(
    processChildLoader("file:///x/process-entry.js", parentOnly, ["--import=./otel.mjs"]),
    {
      execArgv: ["--import=./otel.mjs"],
    },
  );
});

test("a thread child of the package defers tsx as a process child does; of the sources, not", {
  skip,
}, () => {
  const argv = ["--enable-source-maps", "--import", "tsx", "--require=./setup.cjs"];
  const esm = pathToFileURL(realpathSync(join(TSX, "loader.mjs"))).href; // as Node resolves it
  // The package's entry is JavaScript: the worker starts without tsx, which the environment
  // hands it (every other flag as given, `--test` ones too: a worker takes what Node allows).
  const built = threadChildLoader(
    "file:///app/node_modules/multiproc/dist/worker_thread-entry.js",
    [
      ...argv,
      "--test",
    ],
  );
  assert.deepEqual(built?.execArgv, ["--enable-source-maps", "--require=./setup.cjs", "--test"]);
  assert.deepEqual(JSON.parse(built?.env?.[DEFERRED_LOADER_VARIABLE] ?? "[]"), [
    ["--import", esm],
  ]);
  // The checkout's entry is TypeScript, or there is no tsx: the worker inherits the flags.
  const source = pathToFileURL(join(ROOT, "src/entry/worker_thread.ts")).href;
  assert.equal(threadChildLoader(source, argv), undefined);
  assert.equal(
    threadChildLoader("file:///x/worker_thread-entry.js", ["--import=./otel.mjs"]),
    undefined,
  );
});

// Under `node -e`, a "process" child given the parent's flags ran the parent's program again
// (each one starting a pool: a fork bomb), and a worker thread refused `--input-type`.
test("the parent's program given as text (-e, -p, --input-type, -i) reaches no child", {
  skip,
}, () => {
  const keep = ["--enable-source-maps", "--import=./otel.mjs"];
  for (
    const program of [
      ["-e", "code()"],
      ["--eval", "code()"],
      ["--eval=code()"],
      ["-p", "code()"],
      ["-pe", "code()"],
      ["--print", "code()"],
      ["--input-type=module", "-e", "code()"],
      ["--input-type", "module"],
      ["-i", "-e", "code()"],
      ["--interactive"],
      ["--check"],
    ]
  ) {
    const argv = [keep[0], ...program, keep[1]];
    const what = JSON.stringify(argv);
    const child = processChildLoader("file:///x/process-entry.js", () => false, argv);
    assert.deepEqual(child.execArgv, keep, what);
    const thread = threadChildLoader("file:///x/worker_thread-entry.js", argv);
    assert.deepEqual(thread?.execArgv, keep, what);
    const source = pathToFileURL(join(ROOT, "src/entry/worker_thread.ts")).href;
    assert.deepEqual(threadChildLoader(source, argv)?.execArgv, keep, `${what}, sources`);
  }
});
