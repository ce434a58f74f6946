/**
 * The library the way a new user runs it: `npm pack`, the tarball and tsx installed in a fresh
 * project, and a TypeScript program written as the README teaches (fixtures/user_project/app.ts)
 * run with every runtime and loader a user might pick — `node --import tsx` on Node 20, 22 and
 * 24, the `tsx` command, Node 24 with no loader (its own type stripping), and Bun — under every
 * start method (the warm start, "forkserver", too); then a README notebook block, extracted from
 * README.md as written, run the same ways. Nothing comes from the network: the registry is
 * pointed at a closed loopback port, koffi comes from this checkout through `overrides`, tsx is
 * linked from this checkout's node_modules (its own dependencies, esbuild and get-tsconfig,
 * resolve from there through the link).
 *
 * The package is packed from a copy of the checkout's sources, so that its build (`prepack`
 * empties and rewrites dist/) neither races spec/package.test.ts, which packs the checkout in the
 * same `node --test` run, nor changes the checkout's dist/ under anyone else.
 *
 * Runs once, in the Node job on Node 20: it starts Node 22, Node 24 and Bun itself.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ALL_METHODS, eventually, OFFLINE, pidAlive, RUNTIME, tempDir } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODULES = join(ROOT, "node_modules");
const APP = fileURLToPath(new URL("./fixtures/user_project/app.ts", import.meta.url));
const BUSY_ORPHAN = fileURLToPath(
  new URL("./fixtures/user_project/busy_orphan.ts", import.meta.url),
);
const UNGUARDED = fileURLToPath(new URL("./fixtures/user_project/unguarded.ts", import.meta.url));
const WATCHED = fileURLToPath(new URL("./fixtures/user_project/watched.ts", import.meta.url));
const CJS_APP = fileURLToPath(new URL("./fixtures/user_project/cjs_app.cts", import.meta.url));
const VITEST_PROJECT = fileURLToPath(new URL("./fixtures/vitest_project/", import.meta.url));
const JEST_PROJECT = fileURLToPath(new URL("./fixtures/jest_project/", import.meta.url));
const TEST_RUNNER_PROJECT = fileURLToPath(
  new URL("./fixtures/test_runner_project/", import.meta.url),
);
const NODE20 = process.execPath;
const NODE22 = join(MODULES, "node22", "bin", "node");
const NODE24 = join(MODULES, "node24", "bin", "node");
const BUN = join(MODULES, ".bin", "bun");
const DENO = join(MODULES, ".bin", "deno");

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
const skip = RUNTIME !== "node"
  ? "runs once, in the Node job"
  : NODE_MAJOR !== 20
  ? `runs once, on Node 20 (it starts Node 22, Node 24 and Bun itself); this is Node ${NODE_MAJOR}`
  : false;

/** The sources `npm pack` needs: the package's `files` and what its `prepack` build reads. */
const PACKED_SOURCES = [
  "package.json",
  "README.md",
  "mod.ts",
  "src",
  "docs",
  "scripts",
  "tsconfig.json",
  "tsconfig.build.json",
];

/** The environment of every command: offline, without this test runner's own settings. */
function env(): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...process.env, ...OFFLINE, NO_COLOR: "1" };
  // Coverage (c8) and node:test's child context belong to the spec run, not the user's program.
  delete e.NODE_V8_COVERAGE;
  delete e.NODE_TEST_CONTEXT;
  // `node` and `tsx` on PATH are Node 20 and this checkout's tools, as in a user's shell.
  e.PATH = `${dirname(NODE20)}:${join(MODULES, ".bin")}:${process.env.PATH}`;
  return e;
}

/** A setup step (pack, install): synchronous, with a timeout. */
function setup(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: "utf8",
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 240_000,
    });
  } catch (error) {
    // The build's own errors (tsc's, esbuild's) are on stdout: show both streams.
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(
      `setup step '${cmd} ${args.join(" ")}' in ${cwd} failed:\n${e.stdout ?? ""}\n${
        e.stderr ?? ""
      }`,
      { cause: error },
    );
  }
}

/** Packs a copy of the checkout's sources, in a new temporary folder; the tarball's path. */
function pack(): string {
  const dir = tempDir();
  const copy = join(dir, "checkout");
  mkdirSync(copy);
  for (const entry of PACKED_SOURCES) {
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  }
  symlinkSync(MODULES, join(copy, "node_modules"), "dir");
  setup("npm", ["pack", "--pack-destination", dir], copy);
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, "npm pack made no tarball");
  return join(dir, tgz);
}

/**
 * Installs the tarball `tgz` in the project folder `app` (made if missing), and links the tools
 * `tools` from this checkout's node_modules after the install (an install would prune them);
 * their own dependencies resolve from the links' targets.
 */
function install(app: string, tgz: string, tools: string[]): void {
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "user-app",
      type: "module",
      private: true,
      // The one runtime dependency comes from this checkout's node_modules, not the registry.
      overrides: { koffi: `file:${join(MODULES, "koffi")}` },
    }),
  );
  setup("npm", ["install", "--no-audit", "--no-fund", tgz], app);
  for (const tool of tools) {
    symlinkSync(join(MODULES, tool), join(app, "node_modules", tool), "dir");
  }
}

/** The tarball installed with tsx in a fresh project, and the programs it runs. */
function makeProject(tgz: string): string {
  // A folder name as users have them: a space, a `#` (a URL's fragment mark), parentheses and
  // a letter outside ASCII, in every path the runtimes write (stack frames, module URLs).
  const app = join(dirname(tgz), "user app #1 (\u00fc)");
  install(app, tgz, ["tsx"]);
  mkdirSync(join(app, "node_modules", ".bin"), { recursive: true });
  symlinkSync("../tsx/dist/cli.mjs", join(app, "node_modules", ".bin", "tsx"));
  copyFileSync(APP, join(app, "app.ts"));
  copyFileSync(BUSY_ORPHAN, join(app, "busy_orphan.ts"));
  copyFileSync(UNGUARDED, join(app, "unguarded.ts"));
  copyFileSync(CJS_APP, join(app, "cjs_app.cts"));
  copyFileSync(WATCHED, join(app, "watched.ts"));
  return app;
}

/**
 * The tarball installed with vitest (and tsx) in a fresh project of targets and their tests
 * (fixtures/vitest_project). Its folder has a space, parentheses and a letter outside ASCII but
 * no `#`, in which vitest 4 itself finds no test file ("Cannot find module '/test/...'").
 */
function makeVitestProject(tgz: string): string {
  const app = join(dirname(tgz), "vitest app (\u00fc)");
  cpSync(VITEST_PROJECT, app, { recursive: true });
  install(app, tgz, ["vitest", "tsx"]);
  return app;
}

/**
 * The tarball installed with Jest in a fresh project of targets and their tests
 * (fixtures/jest_project), in a folder with a space, parentheses and a letter outside ASCII.
 */
function makeJestProject(tgz: string): string {
  const app = join(dirname(tgz), "jest app (\u00fc)");
  cpSync(JEST_PROJECT, app, { recursive: true });
  install(app, tgz, ["jest"]);
  return app;
}

/**
 * The tarball installed with tsx and Mocha in a fresh project of targets and their tests written
 * for the runtimes' own test runners and for Mocha (fixtures/test_runner_project), in a folder
 * with a space, parentheses and a letter outside ASCII.
 */
function makeTestRunnerProject(tgz: string): string {
  const app = join(dirname(tgz), "runner app (\u00fc)");
  cpSync(TEST_RUNNER_PROJECT, app, { recursive: true });
  install(app, tgz, ["tsx", "mocha"]);
  return app;
}

/** The README block under `heading`: the first TypeScript block after it, as written. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf(heading);
  assert.ok(at >= 0, `README.md has no '${heading}'`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, `README.md has no TypeScript block after '${heading}'`);
  return block[1];
}

/** The ways a user runs a TypeScript file: a name for failures, and the command before it. */
const WAYS: { name: string; argv: (app: string) => string[] }[] = [
  { name: "Node 20, node --import tsx", argv: () => [NODE20, "--import", "tsx"] },
  { name: "Node 22, node --import tsx", argv: () => [NODE22, "--import", "tsx"] },
  { name: "Node 24, node --import tsx", argv: () => [NODE24, "--import", "tsx"] },
  { name: "Node 20, tsx command", argv: (app) => [join(app, "node_modules", ".bin", "tsx")] },
  { name: "Node 24, no loader", argv: () => [NODE24] },
  { name: "Bun", argv: () => [BUN] },
];

/** The arguments after `app.ts <method>`: a space and a flag-like one, non-ASCII too. */
const MORE_ARGS = ["a b", "--label=ü"];

const RUN_TIMEOUT_MS = 90_000;

/** Node's options that load tsx in every process, as a user runs a tool under tsx. */
const TSX_OPTIONS = { NODE_OPTIONS: "--import tsx" };

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` in `cwd` to its end, with the variables `more` added to the environment. Past the timeout the whole process group (the program and
 * any children it started) is killed and the run fails.
 */
function run(argv: string[], cwd: string, more: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      env: { ...env(), ...more },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      reject(
        new Error(
          `'${argv.join(" ")}' did not end within ${RUN_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`,
        ),
      );
    }, RUN_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a run printed, for a failure's message. */
/** Starts `cmd args` in `app` in a process group of its own, gathering what it writes. */
function startedIn(app: string, cmd: string, args: string[]): {
  program: ChildProcess;
  out: () => string;
} {
  const program = spawn(cmd, args, {
    cwd: app,
    env: env(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  program.stdout!.on("data", (d) => (out += d));
  program.stderr!.on("data", (d) => (out += d));
  return { program, out: () => out };
}

function output(r: Run): string {
  const tail = (s: string) => s.trim().split("\n").slice(-25).join("\n");
  return `exit code ${r.code}${r.signal ? `, signal ${r.signal}` : ""}\n`
    + `--- stdout (end)\n${tail(r.stdout)}\n--- stderr (end)\n${tail(r.stderr)}`;
}

/** The JSON of the last line of stdout; fails with the output when there is none. */
function lastJson(r: Run, where: string): unknown {
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last);
  } catch {
    assert.fail(`${where}: no JSON line at the end of the output\n${output(r)}`);
  }
}

test(
  "a new user's project: the packed package and tsx installed, app.ts run as the README teaches",
  {
    skip,
    timeout: 900_000,
  },
  async (t) => {
    const t0 = performance.now();
    const tgz = pack();
    const app = makeProject(tgz);
    t.diagnostic(`packed and installed in ${Math.round(performance.now() - t0)} ms: ${app}`);

    for (const way of WAYS) {
      for (const method of ALL_METHODS) {
        const name = `${way.name}, ${method}: app.ts`;
        await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
          const r = await run([...way.argv(app), "app.ts", method, ...MORE_ARGS], app);
          const argv = [method, ...MORE_ARGS];
          assert.deepEqual(lastJson(r, name), {
            method,
            argv,
            // (a) an exported function found from the call site, (b) a task() mark through a
            // namespace import: both started while the main module still evaluates.
            exitCodes: [0, 0],
            // (c) Value and Lock: 400 + 20000 - 2000.
            balance: 18400,
            // (b) a task() mark through a renamed import, on a function that is not exported.
            notExported: { exitCode: 0, value: 42 },
            // (e) children see the parent's command line, as CPython's spawn hands sys.argv on.
            childArgv: argv,
            // (d) ProcessPoolExecutor.map, in input order.
            squares: [1, 4, 9, 16],
            // (b) a task() mark through a renamed import.
            cube: 27,
            poolArgv: argv,
            // (h) records through map by field; an argument that cannot cross fails its task.
            records: { labels: 64, unsendable: "TypeError: true" },
            // (i) after quick tasks, a slow one does not hold quick ones behind it.
            completionOrder: [1, 2, 0],
            // (g) a fresh worker's first task within a 300 ms limit; an endless one stopped.
            timeLimits: { first: 25, endless: "TimeoutError", stoppedIn: true, after: 16 },
            // (f) a manager used by a child and the parent, its lock held 400 times; then killed
            // while a queue's get waits: EOFError at once, not at the get's 20 s timeout.
            manager: { count: 400, childExit: 0, killed: "EOFError", withinTimeout: true },
            // (j) 32 MiB of bytes through a pool task and a manager's dict, whole, within 10 s.
            largeData: { pool: true, manager: true, within10s: true },
            // (k) Math.sqrt through map, the library's sleep and cpuCount through submit.
            builtins: { roots: [4, 5], cpus: true },
            // (l) a fraction for Value("i") and an assignment to a proxy are refused.
            refused: {
              value: "TypeError: Value('i'): typecode 'i' holds integers, got 1.7; round it first "
                + "(Math.round, Math.trunc) or use typecode 'd' for fractions.",
              namespace: "TypeError: NamespaceProxy: assigning 'x' would change only this "
                + "process's copy, not the manager's object; use await proxy.set(\"x\", value) "
                + "(a proxy's methods return Promises).",
              stillOne: 1,
            },
            // (m) a task's error: its message, the worker's stack, its cause's code.
            taskError: {
              message: "cannot read /nonexistent/x",
              traceback: "RemoteTraceback",
              code: "ENOENT",
            },
            // (n) imap over an endless generator, a cyclic argument, the environment at start().
            lazy: { first: [0, 2, 4], cycle: true, env: `changed for ${method}` },
          }, `${name}\n${output(r)}`);
          assert.equal(r.code, 0, `${name}\n${output(r)}`);
        });
      }
    }

    // A TypeScript CommonJS program run by Node's own type stripping: on Node 22 its children
    // once failed to load it ("request for './chunk-....js' is from a module not been linked").
    const CJS_WAYS = [
      { name: "Node 22, no loader", argv: [NODE22] },
      { name: "Node 24, no loader", argv: [NODE24] },
    ];
    for (const way of CJS_WAYS) {
      for (const method of ALL_METHODS) {
        const name = `${way.name}, ${method}: cjs_app.cts`;
        await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
          const r = await run([...way.argv, "cjs_app.cts", method], app);
          assert.deepEqual(lastJson(r, name), {
            method,
            said: ["added 100", "added 200"],
            total: 300,
            exitCodes: [0, 0],
            pooled: [1, 4, 9],
            submitted: 49,
            mapped: [16, 25],
          }, `${name}\n${output(r)}`);
          assert.equal(r.code, 0, `${name}\n${output(r)}`);
        });
      }
    }

    const heading = "**Shared memory, with and without a lock.**";
    const block = readmeBlock(heading);
    // The block names what it prints in a comment: `... Final Balance is: ${...}`); // 90400`.
    const expected = /Final Balance is: .*\/\/ (\d+)/.exec(block)?.[1];
    assert.ok(expected, `the README block '${heading}' no longer prints its final balance`);
    writeFileSync(join(app, "readme_lock.ts"), block);
    for (const way of WAYS) {
      const name = `${way.name}, default method: README block '${heading.replaceAll("*", "")}'`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const r = await run([...way.argv(app), "readme_lock.ts"], app);
        const last = r.stdout.trim().split("\n").pop()?.trim();
        assert.equal(last, `Final Balance is: ${expected}`, `${name}\n${output(r)}`);
        assert.equal(r.code, 0, `${name}\n${output(r)}`);
      });
    }
    for (const way of WAYS) {
      const name = `${way.name}, default method: unguarded main code fails clearly, no hang`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const r = await run([...way.argv(app), "unguarded.ts"], app);
        // CPython's bootstrapping-phase error, in the pool's task and the process's child.
        assert.match(r.stdout, /^pool failed: .*still importing '[^']*unguarded\.ts'/m, output(r));
        assert.match(r.stdout, /isMain\(import\.meta\)/, output(r));
        assert.match(r.stdout, /^process exit code 1$/m, output(r));
        assert.equal(r.code, 0, `${name}\n${output(r)}`);
      });
    }
    for (const way of WAYS) {
      const name = `${way.name}: a child busy in a loop ends with its parent's SIGKILL, its `
        + "named segment unlinked";
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const [cmd, ...args] = [...way.argv(app), "busy_orphan.ts"];
        const { program, out } = startedIn(app, cmd, args);
        const said = /PARENT (\d+) CHILD (\d+) SEGMENT (\S+)/;
        const seen = await eventually(() => said.test(out()), RUN_TIMEOUT_MS);
        const [, parentPid, childPid, segment] = said.exec(out()) ?? [];
        const [parent, child] = [Number(parentPid), Number(childPid)];
        try {
          assert.ok(seen, `${name}: the program never said its pids\n${out()}`);
          // The program itself (under the tsx command, a child of tsx's), not its group.
          process.kill(parent, "SIGKILL");
          const gone = await eventually(() => !pidAlive(child), 2000);
          assert.ok(gone, `${name}: child ${child} still ran 2 s after its parent's SIGKILL`);
          // Unlinked by the registry's sweeper (memory/tracker.ts), which outlives the program.
          const swept = await eventually(() => !existsSync(`/dev/shm/${segment}`), 2000);
          assert.ok(swept, `${name}: segment ${segment} left 2 s after the program's SIGKILL`);
        } finally {
          if (child && pidAlive(child)) process.kill(child, "SIGKILL");
          try {
            process.kill(-program.pid!, "SIGKILL");
          } catch {
            // ended
          }
        }
      });
    }

    // `bun --watch` calls SIGTERM's listeners before it starts the program again, in the same
    // process: the library's (it unlinks named segments) once re-raised the signal, which ended
    // the watcher at the first change. Now each run's segment is unlinked and the next one starts;
    // a real SIGTERM still ends the program.
    await t.test("Bun, bun --watch: a change starts the program again", async () => {
      const { program, out } = startedIn(app, BUN, ["--watch", "watched.ts"]);
      const segments = () => [...out().matchAll(/^READY (\S+)$/gm)].map((m) => m[1]);
      let code: number | null | undefined;
      program.on("exit", (c, signal) => (code = c ?? (signal === "SIGTERM" ? 143 : -1)));
      try {
        assert.ok(await eventually(() => segments().length === 1, RUN_TIMEOUT_MS), out());
        appendFileSync(join(app, "watched.ts"), "// changed\n");
        const again = await eventually(() => segments().length === 2, 20_000);
        assert.ok(again, `no second run after a change (exit code ${code})\n${out()}`);
        assert.equal(code, undefined, `the watcher ended\n${out()}`);
        assert.ok(
          !existsSync(`/dev/shm/${segments()[0]}`),
          `the first run's segment left\n${out()}`,
        );
        process.kill(program.pid!, "SIGTERM");
        assert.ok(
          await eventually(() => code !== undefined, 5000),
          `SIGTERM ended nothing\n${out()}`,
        );
        assert.ok(
          !existsSync(`/dev/shm/${segments()[1]}`),
          `the last run's segment left\n${out()}`,
        );
      } finally {
        try {
          process.kill(-program.pid!, "SIGKILL");
        } catch {
          // ended
        }
      }
    });

    // A user's vitest tests of code that uses the library: its targets in src/, loaded by the
    // runtime (vitest.config.ts lists them in `test.server.deps.external`), every start method.
    const tests = makeVitestProject(tgz);
    const vitest = join(tests, "node_modules", "vitest", "vitest.mjs");
    const VITEST_WAYS = [
      { name: "Node 20, NODE_OPTIONS=--import tsx", node: NODE20, more: TSX_OPTIONS },
      { name: "Node 22, no loader", node: NODE22, more: {} },
      { name: "Node 24, no loader", node: NODE24, more: {} },
    ];
    for (const way of VITEST_WAYS) {
      const name = `${way.name}: vitest run, the targets' modules external`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const r = await run([way.node, vitest, "run"], tests, way.more);
        assert.match(r.stdout, /Tests\s+6 passed \(6\)/, `${name}\n${output(r)}`);
        assert.equal(r.code, 0, `${name}\n${output(r)}`);
      });
    }
    // Without that setting, vitest's module runner loads src/ as well: every test fails, with an
    // error that says what to change (on Node 20 with no loader, also for TypeScript).
    for (const way of [VITEST_WAYS[2], { name: "Node 20, no loader", node: NODE20, more: {} }]) {
      const name = `${way.name}: vitest run, the targets' modules in vitest's runner`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const r = await run(
          [way.node, vitest, "run", "--config", "vitest.runner.config.ts"],
          tests,
        );
        assert.match(r.stdout, /Tests\s+6 failed \(6\)/, `${name}\n${output(r)}`);
        const advice = (r.stdout + r.stderr).match(
          /Under vitest, .*?test\.server\.deps\.external/g,
        );
        assert.ok(advice && advice.length >= 6, `${name}: no advice in each error\n${output(r)}`);
        assert.equal(r.code, 1, `${name}\n${output(r)}`);
      });
    }

    // A user's Jest tests (Jest on ES modules, as Jest runs them with
    // --experimental-vm-modules): targets in src/ run under every start method; a target in a
    // test file fails with advice; the run ends cleanly (the library once imported Jest's own
    // command inside the test, which ran it again there and crashed Jest after the tests). A
    // CommonJS test require()s the package where Jest can (Node 24.9+).
    const jestApp = makeJestProject(tgz);
    const jest = join(jestApp, "node_modules", "jest", "bin", "jest.js");
    const JEST_WAYS = [
      { name: "Node 20", node: NODE20, cjs: false },
      { name: "Node 22", node: NODE22, cjs: false },
      { name: "Node 24", node: NODE24, cjs: true },
    ];
    for (const way of JEST_WAYS) {
      const name = `${way.name}: jest, the tests on ES modules`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const skipCjs = way.cjs ? [] : ["--testPathIgnorePatterns", "\\.cjs$"];
        const r = await run(
          [way.node, "--experimental-vm-modules", jest, "--ci", ...skipCjs],
          jestApp,
          { NODE_NO_WARNINGS: "1" },
        );
        const all = r.stdout + r.stderr;
        const passed = way.cjs ? 10 : 9;
        assert.match(all, new RegExp(`Tests:\\s+${passed} passed, ${passed} total`), output(r));
        assert.doesNotMatch(all, /torn down|clearLine/, output(r));
        assert.equal(r.code, 0, `${name}\n${output(r)}`);
      });
    }
    // A user's tests on the runtimes' own runners, with targets defined in the test file itself
    // (test/local.test.ts: every start method) and in a module of its own (test/src.test.ts).
    // A child imports the test file for its target: Node's runner (and a test file run with no
    // runner) must not run the file's tests there again nor count them with the file's; Deno's
    // declares nothing outside `deno test`; under `bun test` a target in a test file fails with
    // advice (test/globals.bun.test.js: also with Bun's implicit globals). Mocha's globals
    // (test/mocha.spec.mjs) are made inert in a child, which could not import the file before.
    const runnerApp = makeTestRunnerProject(tgz);
    const FILES = ["test/local.test.ts", "test/src.test.ts"];
    const MOCHA = [
      join(runnerApp, "node_modules", "mocha", "bin", "mocha.js"),
      "test/mocha.spec.mjs",
    ];
    const mochaCounts = (r: Run) => {
      assert.match(r.stdout, /^ {2}6 passing/m, output(r));
      assert.doesNotMatch(r.stdout, /failing|pending/, output(r));
    };
    const TAP = ["--test-reporter=tap"];
    const tapCounts = (r: Run, tests: number) => {
      assert.equal(r.stdout.match(/^# tests \d+$/gm)?.length, 1, `one summary\n${output(r)}`);
      assert.match(
        r.stdout,
        new RegExp(`^# tests ${tests}\n# suites 3\n# pass ${tests}\n# fail 0\n`, "m"),
        output(r),
      );
    };
    const RUNNER_WAYS = [
      {
        name: "Node 20, node --import tsx --test",
        argv: [NODE20, "--import", "tsx", "--test", ...TAP, ...FILES],
        check: (r: Run) => tapCounts(r, 9),
      },
      {
        name: "Node 22, node --import tsx --test",
        argv: [NODE22, "--import", "tsx", "--test", ...TAP, ...FILES],
        check: (r: Run) => tapCounts(r, 9),
      },
      {
        name: "Node 24, node --test",
        argv: [NODE24, "--test", ...TAP, ...FILES],
        check: (r: Run) => tapCounts(r, 9),
      },
      {
        name: "Node 24, a test file run with no runner",
        argv: [NODE24, ...TAP, FILES[0]],
        check: (r: Run) => tapCounts(r, 6),
      },
      {
        name: "Bun, bun test",
        argv: [BUN, "test", ...[...FILES, "test/globals.bun.test.js"].map((f) => `./${f}`)],
        check: (r: Run) => assert.match(r.stderr, /^ 12 pass\n 0 fail\n/m, output(r)),
      },
      {
        name: "Deno, deno test",
        argv: [DENO, "test", "-A", "--no-check", ...FILES],
        check: (r: Run) =>
          assert.match(r.stdout, /ok \| 9 passed \(3 steps\) \| 0 failed/, output(r)),
      },
      { name: "Node 20, Mocha", argv: [NODE20, ...MOCHA], check: mochaCounts },
      { name: "Node 22, Mocha", argv: [NODE22, ...MOCHA], check: mochaCounts },
      { name: "Node 24, Mocha", argv: [NODE24, ...MOCHA], check: mochaCounts },
    ];
    // Each test body notes that it ran (fixtures: `ran`): once each, none again in a child (there
    // they started pools of their own, whose children imported the file again: 11 runs of one).
    const bodies = (argv: string[]) => {
      const has = (file: string) => argv.some((arg) => arg.endsWith(file));
      return ALL_METHODS.flatMap((m) => [
        ...(has(FILES[0]) ? [`${m} pool`, `${m} processes`] : []),
        ...(has(FILES[1]) ? [`${m} src`] : []),
        ...(has(MOCHA[1]) ? [`${m} mocha pool`, `${m} mocha processes`] : []),
      ]).sort();
    };
    for (const [i, way] of RUNNER_WAYS.entries()) {
      const name = `${way.name}: targets in a test file and in src/`;
      await t.test(name, { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
        const log = join(runnerApp, `runs-${i}.log`);
        const r = await run(way.argv, runnerApp, { RUNS_LOG: log });
        way.check(r);
        const ran = readFileSync(log, "utf8").trim().split("\n").sort();
        assert.deepEqual(ran, bodies(way.argv), `${name}: the test bodies run\n${output(r)}`);
        assert.equal(r.code, 0, `${name}\n${output(r)}`);
      });
    }
    // A tool that shards test files over a pool, its children running node:test's run(): it
    // declares no tests, so its children's runs are not skipped (with the flags that quiet a
    // test file's children, every share's tests would be).
    const share = { pass: 2, fail: 0, skip: 0 };
    const shares = [share, { ...share, pass: 1 }];
    for (const [name, node] of [["Node 20", NODE20], ["Node 22", NODE22], ["Node 24", NODE24]]) {
      await t.test(`${name}: a pool's children run test files with node:test's run()`, async () => {
        const r = await run([node, "shard.mjs"], runnerApp);
        const expected = Object.fromEntries(ALL_METHODS.map((m) => [m, shares]));
        assert.deepEqual(lastJson(r, name), expected, output(r));
        assert.equal(r.code, 0, output(r));
      });
    }
    t.diagnostic(`all cases in ${Math.round(performance.now() - t0)} ms`);
  },
);
