/**
 * The npm package end to end: `npm pack`, then in temporary projects `npm install` and
 * `bun add` of the tarball, and a small program run against the installed package by Node and
 * by Bun under every start method, the warm `"forkserver"` included (processes, shared memory, a
 * pool's map and task progress, ShareableList, a manager, Listener/Client); the published types
 * type-checked as a TypeScript project that checks its libraries does (npm install only);
 * a CommonJS program too (`require()`, `task(module, fn)`, `isMain(module)`: package_app.cjs);
 * then `examples/zx-parallel.mjs` run there by the installed zx, on each runtime, under both
 * start methods; and the program bundled by esbuild (the package external; inside, where
 * starting a child must fail clearly) and by `bun build --compile`. Nothing comes from the network: the registry is pointed at a closed loopback
 * port and koffi is taken from this checkout. Runs once, in the Node job (it builds and
 * installs). Deno runs the npm-installed program too (under every start method) and checks the
 * published types (deno check).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ALL_METHODS, METHODS, OFFLINE, pidAlive, RUNTIME, tempDir } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const APP = fileURLToPath(new URL("./fixtures/package_app.mjs", import.meta.url));
const CJS_APP = fileURLToPath(new URL("./fixtures/package_app.cjs", import.meta.url));
const UNGUARDED = fileURLToPath(new URL("./fixtures/package_unguarded.mjs", import.meta.url));
const ZX_EXAMPLE = fileURLToPath(new URL("../examples/zx-parallel.mjs", import.meta.url));
const ZX_CLI = join(ROOT, "node_modules", "zx", "build", "cli.js");

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...OFFLINE },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
}

/** What APP prints, on every runtime and start method. */
const APP_RESULT = {
  total: 2000,
  squares: [1, 4, 9],
  done: [1, 2, 3],
  reported: [1, 2, 3],
  shareable: ["child", 42],
  managed: 40,
  greeting: [["over", "tcp"]],
  refused: "AuthenticationError",
  codes: [0, 0],
  loaded: "dist/mod.js",
};

/** What CJS_APP, a CommonJS program, prints on every runtime and start method. */
const CJS_RESULT = {
  squared: 49,
  cubed: 27,
  map: [1, 4, 9],
  nested: 25,
  hidden: true,
  moduleSlip: true,
  typo: "ProcessPoolExecutor: unknown option 'max_workers' (did you mean 'maxWorkers'?)",
  byFilename: 36,
  total: 1000,
  codes: [0, 0],
  loaded: "dist/mod.js",
};

/** The last line of a program's output, parsed. */
const lastJson = (out: string): unknown => JSON.parse(out.trim().split("\n").pop()!);

test("npm pack, then npm install and bun add of the tarball, run with Node, Bun and Deno", {
  skip: RUNTIME === "node" ? false : "runs once, in the Node job",
  timeout: 600_000,
}, () => {
  const dir = tempDir();
  run("npm", ["pack", "--pack-destination", dir], ROOT);
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, "npm pack made no tarball");
  for (
    const [tool, install, runtime] of [
      ["npm", ["install", "--no-audit", "--no-fund"], "node"],
      ["bun", ["add"], "bun"],
    ] as const
  ) {
    // A folder named as users' are: a space, `#`, parentheses, a letter outside ASCII.
    const app = join(dir, `${tool} app #1 (\u00fc)`);
    mkdirSync(app);
    // The one runtime dependency comes from this checkout's node_modules, not the registry.
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({
        name: `${tool}-app`,
        type: "module",
        private: true,
        overrides: { koffi: `file:${join(ROOT, "node_modules", "koffi")}` },
      }),
    );
    copyFileSync(APP, join(app, "app.mjs"));
    copyFileSync(CJS_APP, join(app, "app.cjs"));
    run(tool, [...install, join(dir, tgz)], app);
    // The published types carry no internal member (tsc's stripInternal): only the contract.
    const types = join(app, "node_modules", "multiproc", "dist");
    for (const file of readdirSync(types, { recursive: true }) as string[]) {
      if (!file.endsWith(".d.ts")) continue;
      const text = readFileSync(join(types, file), "utf8");
      assert.ok(!text.includes("@internal"), `${tool}: dist/${file} declares @internal members`);
      assert.ok(
        !/constructor\(origin/.test(text),
        `${tool}: dist/${file}: an internal constructor`,
      );
    }
    // A TypeScript project that checks the declarations of what it uses (skipLibCheck off, tsc's
    // default) type-checks against them: none names what the build stripped (@internal).
    if (tool === "npm") typeCheck(app, "tsc", process.execPath, [TSC, ...TSC_FLAGS, "types.ts"]);
    for (const method of ALL_METHODS) {
      const exe = runtime === "node" ? process.execPath : "bun";
      const out = run(exe, ["app.mjs", method], app);
      assert.deepEqual(lastJson(out), APP_RESULT, `${tool} install, ${runtime}, ${method}`);
      const cjs = run(exe, ["app.cjs", method], app);
      assert.deepEqual(
        lastJson(cjs),
        CJS_RESULT,
        `${tool} install, ${runtime}, ${method}, CommonJS`,
      );
    }
    if (tool === "npm") runWithDeno(app);
    checkZxExample(app, runtime);
    checkBundled(app, runtime);
  }
});

/**
 * The program bundled by esbuild, as apps are for deployment: with the package external it runs
 * as before; with the library bundled in, the files a child starts from are not there, and
 * starting one fails with an error that says so and what to do (no "module not found" from a
 * child that died; bundled to CommonJS, the library's load fails so). Bun's single-file
 * executable (`bun build --compile`) runs it all: its children are the executable again
 * (src/runtime/standalone.ts).
 */
function checkBundled(app: string, runtime: "node" | "bun"): void {
  const exe = runtime === "node" ? process.execPath : "bun";
  const esbuild = (out: string, ...flags: string[]) => {
    const options = ["--bundle", "--platform=node", "--format=esm", "--log-level=error"];
    run(join(BIN, "esbuild"), ["app.mjs", ...options, `--outfile=${out}`, ...flags], app);
  };
  esbuild("out/external.mjs", "--external:multiproc");
  esbuild("out/inside.mjs");
  // The CommonJS program bundled to CommonJS with the library inside: there `import.meta` is an
  // empty object, which once failed the library's load with a bare "Invalid URL".
  const options = ["--bundle", "--platform=node", "--format=cjs", "--log-level=error"];
  run(join(BIN, "esbuild"), ["app.cjs", ...options, "--outfile=out/inside.cjs"], app);
  const cjs = spawnSync(exe, ["out/inside.cjs", "process"], {
    cwd: app,
    encoding: "utf8",
    env: { ...process.env, ...OFFLINE },
    timeout: 60_000,
  });
  const cjsSaid = `${runtime}, esbuild --format=cjs, multiproc inside: exit ${cjs.status}\n`
    + `${cjs.stdout}\n${cjs.stderr}`;
  assert.notEqual(cjs.status, 0, cjsSaid);
  assert.match(cjs.stderr, /bundled into a CommonJS program .*--external:multiproc/, cjsSaid);
  for (const method of ALL_METHODS) {
    const out = run(exe, ["out/external.mjs", method], app);
    assert.deepEqual(lastJson(out), APP_RESULT, `${runtime}, esbuild, external, ${method}`);
    const r = spawnSync(exe, ["out/inside.mjs", method], {
      cwd: app,
      encoding: "utf8",
      env: { ...process.env, ...OFFLINE },
      timeout: 60_000,
    });
    const said =
      `${runtime}, esbuild, multiproc inside, ${method}: exit ${r.status}\n${r.stdout}\n${r.stderr}`;
    assert.equal(r.signal, null, `${said}\n(ended by a signal: the timeout?)`);
    assert.notEqual(r.status, 0, said);
    assert.match(
      r.stderr,
      /multiproc cannot start a child: its entry script '[^']+' is missing/,
      said,
    );
    assert.match(r.stderr, /--external:multiproc/, said);
  }
  if (runtime === "bun") checkExecutable(app);
}

/**
 * `bun build --compile`: the program, every start method, as one executable with nothing beside
 * it (copied alone to a directory of its own), plain and minified; a module that starts a child
 * at its top level, unguarded, is refused in the child as it is elsewhere (not a child started by
 * every child); and the program killed leaves none of its children (nor a warm spare) running,
 * and no named segment.
 */
function checkExecutable(app: string): void {
  const dir = tempDir();
  const build = (source: string, name: string, ...flags: string[]) => {
    run("bun", ["build", "--compile", ...flags, source, "--outfile", join(app, "out", name)], app);
    copyFileSync(join(app, "out", name), join(dir, name));
    chmodSync(join(dir, name), 0o755);
    return join(dir, name);
  };
  // Minified too (the library's error classes keep their names), with a source map (its stack
  // frames then name the relative paths it was built from, no module).
  for (const flags of [[], ["--minify", "--sourcemap"]]) {
    const exe = build("app.mjs", `app${flags.join("")}-exe`, ...flags);
    for (const method of ALL_METHODS) {
      const out = execFileSync(exe, [method], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.deepEqual(
        lastJson(out),
        { ...APP_RESULT, loaded: "(in the executable)" },
        `bun build --compile ${flags.join(" ")}, ${method}`,
      );
    }
  }
  copyFileSync(UNGUARDED, join(app, "unguarded.mjs"));
  const unguarded = build("unguarded.mjs", "unguarded-exe");
  for (const method of ALL_METHODS) {
    const r = spawnSync(unguarded, [method], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    const said = `unguarded executable, ${method}: exit ${r.status}\n${r.stdout}\n${r.stderr}`;
    assert.equal(r.signal, null, `${said}\n(ended by a signal: the timeout?)`);
    assert.match(r.stdout, /^exit code 1$/m, said); // its one child refused, and no other started
    assert.match(r.stderr, /this child is still importing '[^']+' to find its target/, said);
  }
  for (const method of ["process", "forkserver"]) {
    const r = spawnSync(unguarded, [method, "kill"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
    });
    const said = `killed executable, ${method}: ${r.signal}\n${r.stdout}\n${r.stderr}`;
    assert.equal(r.signal, "SIGKILL", said);
    const pids = r.stdout.match(/^children (.*)$/m)?.[1].split(" ").map(Number) ?? [];
    assert.equal(pids.length, 2, said);
    for (const pid of pids) {
      assert.ok(
        within5s(() => !pidAlive(pid)),
        `${said}\nchild ${pid} still runs 5 s after its parent was killed`,
      );
    }
    // Its named segment unlinked by the registry's sweeper, which outlives the program.
    const name = r.stdout.match(/^segment (\S+)$/m)?.[1];
    assert.ok(name, said);
    const segment = `/dev/shm/${name}`;
    assert.ok(within5s(() => !existsSync(segment)), `${said}\n${segment} left 5 s after the kill`);
    // Nor a warm spare: no process runs the executable any more.
    const left = spawnSync("pgrep", ["-f", unguarded], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", `${said}\nstill running: ${left}`);
  }
}

/** Whether `ok()` holds within 5 s (asked every 0.1 s; synchronous, as this file's checks are). */
function within5s(ok: () => boolean): boolean {
  const until = Date.now() + 5000;
  while (!ok() && Date.now() < until) spawnSync("sleep", ["0.1"]);
  return ok();
}

/**
 * Deno running the npm-installed package (a project with a package.json: Deno resolves
 * `"multiproc"` through node_modules): the same program under every start method, the built
 * JavaScript loaded, and its types checked.
 */
function runWithDeno(app: string): void {
  // As a TypeScript module, as Deno programs are written: its children import it as such.
  copyFileSync(APP, join(app, "app.ts"));
  for (const method of ALL_METHODS) {
    const out = run("deno", ["run", "-A", "app.ts", method], app);
    assert.deepEqual(lastJson(out), APP_RESULT, `npm install, deno, ${method}`);
    const cjs = run("deno", ["run", "-A", "app.cjs", method], app);
    assert.deepEqual(lastJson(cjs), CJS_RESULT, `npm install, deno, ${method}, CommonJS`);
  }
  typeCheck(app, "deno check", "deno", ["check", "types.ts"]);
}

/** A TypeScript user's module of the installed package: every public declaration is reached. */
const TYPES_PROGRAM = `import * as mp from "multiproc";
import type { ShareableItem } from "multiproc";
export const items: ShareableItem[] = [1, 2n, "text", true, null];
export const names = Object.keys(mp).length;
export type Classes = [typeof mp.ProcessPoolExecutor, typeof mp.ClusterExecutor, typeof mp.Pool];
`;

/** This checkout's tsc, as strict as a project gets (skipLibCheck off: its libraries checked). */
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const TSC_FLAGS = [
  ...["--noEmit", "--strict", "--skipLibCheck", "false", "--target", "es2022"],
  ...["--lib", "esnext,dom", "--module", "nodenext", "--moduleResolution", "nodenext"],
];

/** Type-checks TYPES_PROGRAM in `app` with `checker` (`cmd args`), failing with its output. */
function typeCheck(app: string, checker: string, cmd: string, args: string[]): void {
  writeFileSync(join(app, "types.ts"), TYPES_PROGRAM);
  try {
    run(cmd, args, app);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    assert.fail(`${checker} on the installed package's types:\n${stdout}${stderr}`);
  }
}

/** Files of known sizes, compressible, for the zx example to work on. */
function zxData(app: string): Map<string, number> {
  const sizes = new Map<string, number>();
  mkdirSync(join(app, "data", "nested"), { recursive: true });
  for (let i = 0; i < 7; i++) {
    const file = join("data", i % 2 ? "nested" : "", `file${i}.txt`);
    const text = `line ${i}: the quick brown fox jumps over the lazy dog\n`.repeat(200 * (i + 1));
    writeFileSync(join(app, file), text);
    sizes.set(file, Buffer.byteLength(text));
  }
  return sizes;
}

/** Runs the zx example in `app` (multiproc installed there; zx linked to the installed one). */
function checkZxExample(app: string, runtime: "node" | "bun"): void {
  symlinkSync(join(ROOT, "node_modules", "zx"), join(app, "node_modules", "zx"), "dir");
  copyFileSync(ZX_EXAMPLE, join(app, "zx-parallel.mjs"));
  const sizes = zxData(app);
  const exe = runtime === "node" ? process.execPath : "bun";
  for (const method of METHODS) {
    const out = run(
      exe,
      [ZX_CLI, "zx-parallel.mjs", "--jobs", "3", "--method", method, "data"],
      app,
    )
      .replace(/\x1b\[[0-9;]*m/g, "");
    const lines = out.trim().split("\n");
    const progress = lines.slice(0, -1).map((line) => {
      const m = /^\[(\d+)\/(\d+)\] (\S+): ([\d.]+) kB → ([\d.]+) kB .* by PoolWorker-\d+$/.exec(
        line,
      );
      assert.ok(m, `${runtime} ${method}: unexpected line '${line}' in:\n${out}`);
      return { n: Number(m[1]), of: Number(m[2]), file: m[3], before: m[4], after: Number(m[5]) };
    });
    const where = `zx example, ${runtime}, ${method}`;
    assert.deepEqual(progress.map((p) => p.n), [1, 2, 3, 4, 5, 6, 7], where);
    assert.ok(progress.every((p) => p.of === 7), where);
    assert.deepEqual(progress.map((p) => p.file).sort(), [...sizes.keys()].sort(), where);
    for (const p of progress) {
      assert.equal(p.before, (sizes.get(p.file)! / 1024).toFixed(1), `${where}: ${p.file}`);
      assert.ok(p.after > 0 && p.after < Number(p.before) / 4, `${where}: ${p.file} compressed`);
    }
    const total = [...sizes.values()].reduce((a, b) => a + b, 0);
    assert.match(lines.at(-1)!, new RegExp(`^7 files: ${(total / 1024).toFixed(1)} kB → `), where);
  }
}
