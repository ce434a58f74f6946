/** Finding a child's code: task() marks, the module option, the call site; bad targets refused. */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  BaseManager,
  ClusterExecutor,
  getContext,
  isMain,
  Pool,
  Process,
  ProcessPoolExecutor,
  task,
} from "../mod.ts";
import { startHere, startNotExported } from "./fixtures/caller.ts";
import { syncWrite, unmarked } from "./fixtures/targets.ts";
import { ALL_METHODS, METHODS, readJson, runScript, tempDir } from "./helpers.ts";

const TARGETS_URL = new URL("./fixtures/targets.ts", import.meta.url);

for (const method of METHODS) {
  const { Process } = getContext(method);
  const tag = `[${method}]`;

  test(`task(import.meta, fn) lets a child find fn from any caller ${tag}`, async () => {
    const out = join(tempDir(), "mark.json");
    const p = new Process({ target: syncWrite, args: [out, "marked ran"] });
    await p.start();
    await p.join();
    assert.equal(readJson(out), "marked ran");
  });

  test(`the module option finds an unmarked export (URL, href and path) ${tag}`, async () => {
    for (const module of [TARGETS_URL, TARGETS_URL.href, TARGETS_URL.pathname]) {
      const out = join(tempDir(), "module.json");
      const p = new Process({ target: unmarked, args: [out], module });
      await p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(readJson(out), "unmarked ran");
    }
  });

  test(`the calling module is searched for the target ${tag}`, async () => {
    const out = join(tempDir(), "caller.json");
    assert.equal(await startHere(method, out), 0);
    assert.equal(readJson(out), "call site ran");
  });

  test(`children see the program's command line when they import the main module ${tag}`, async () => {
    const args = [method, "a b", "--flag=ü", "-x"];
    const r = await runScript("argv.ts", args);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const both = { args, node: args }; // the runtime's own way, and node:process's argv
    assert.deepEqual(out, { main: both, child: both, worker: both, code: 0 });
  });

  test(`the notebook shape works: target and main code in one entry module ${tag}`, async () => {
    const r = await runScript("console.ts", [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /main exitCode=0/);
    assert.match(r.stdout, /child shouts ANONYMOUS/);
    assert.match(r.stdout, /anonymous exitCode=0/);
  });

  test(`a non-exported target rejects start() naming function, module and remedies ${tag}`, async () => {
    const p = startNotExported(method);
    await assert.rejects(p.start(), (e: Error) => {
      assert.match(e.message, /Cannot start process 'Process-[\d:]+'/);
      assert.match(e.message, /target 'notExported' is not exported from/);
      assert.match(e.message, /fixtures\/caller\.ts/);
      assert.match(e.message, /task\(import\.meta/);
      assert.match(e.message, /module: import\.meta\.url/);
      assert.match(e.message, /export it from the module that makes this call/);
      return true;
    });
    await assert.rejects(p.join(), /notExported/);
  });

  test(`an unmarked export with the wrong module option is refused ${tag}`, async () => {
    const p = new Process({
      target: unmarked,
      args: ["x"],
      module: new URL("./fixtures/caller.ts", import.meta.url),
    });
    await assert.rejects(p.start(), /target 'unmarked' is not exported from/);
  });

  test(`the module option takes a relative path with spaces, # and % in it ${tag}`, async () => {
    const dir = join(tempDir(), "a b#c%20d");
    mkdirSync(dir);
    const file = join(dir, "odd.mjs");
    writeFileSync(
      file,
      `import { writeFileSync } from "node:fs";\n`
        + `export function odd(out) { writeFileSync(out, JSON.stringify("odd ran")); }\n`,
    );
    const { odd } = await import(pathToFileURL(file).href);
    const out = join(dir, "odd.json");
    const p = new Process({ target: odd, args: [out], module: relative(process.cwd(), file) });
    await p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(readJson(out), "odd ran");
  });

  test(`a target that is not a function is refused ${tag}`, async () => {
    const p = new Process({ target: 42 as unknown as () => void });
    await assert.rejects(p.start(), TypeError);
  });
}

for (const method of ALL_METHODS) {
  test(`a child that imports unguarded main code refuses to start children (${method})`, async () => {
    const r = await runScript("unguarded.ts", [method], 60_000);
    assert.equal(r.code, 0, r.stderr);
    // CPython's "bootstrapping phase" error: the task and the process fail, saying what to do.
    assert.match(r.stdout, /^pool \(main true\) failed: .*still importing '[^']*unguarded\.ts'/m);
    assert.match(r.stdout, /Put that code under `if \(isMain\(import\.meta\)\) \{ \.\.\. \}`/i);
    assert.match(r.stdout, /^process exit code 1$/m);
    assert.match(r.stderr, /still importing '[^']*unguarded\.ts' to find its target/);
  });
}

for (const method of ALL_METHODS) {
  test(`a program that never calls isMain gets the same error, not a hang (${method})`, async () => {
    const r = await runScript("unguarded_plain.ts", [method], 60_000);
    assert.equal(r.code, 0, r.stderr);
    // Its entry module is evaluating: the parent must not import it to look for targets.
    for (const name of ["exported", "imported"]) {
      const failed = new RegExp(
        `^${name} failed: .*still importing '[^']*unguarded_plain\\.ts'`,
        "m",
      );
      assert.match(r.stdout, failed);
    }
    assert.match(r.stdout, /^process exit code 1$/m);
  });
}

// CommonJS has no import.meta: its `module` marks targets and guards the main code instead.
for (const method of ALL_METHODS) {
  test(`a CommonJS program: require(), task(module, fn), isMain(module) (${method})`, async () => {
    const r = await runScript("commonjs.cjs", [method]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").pop()!), {
      cubed: 27,
      squared: 16,
      code: 0,
    });
  });
}

test("a child that cannot import a test file for its target says to move the target", async () => {
  (globalThis as { UNDER_RUNNER?: boolean }).UNDER_RUNNER = true; // the runner: this process
  const module = new URL("./fixtures/refusing.spec.ts", import.meta.url);
  const { inSpec } = await import(module.href);
  for (const method of ALL_METHODS) {
    const pool = new (getContext(method).ProcessPoolExecutor)({ maxWorkers: 1, module });
    try {
      await assert.rejects(
        pool.submit(inSpec, 1),
        /must be run by its test runner.*named as a test file is.* module of their own/s,
        method,
      );
    } finally {
      await pool.shutdown();
    }
  }
});

test("task() and isMain() take import.meta or a CommonJS module, and refuse the rest", () => {
  const fn = (x: number) => x;
  const path = fileURLToPath(TARGETS_URL);
  assert.equal(task({ filename: path, exports: {} }, fn), fn);
  assert.equal(isMain({ filename: path, exports: {} }), false, "not the entry module");
  for (const bad of [undefined, null, {}, { filename: "", exports: {} }, { filename: path }]) {
    const cjs =
      /the first argument must be the module's import\.meta \(in CommonJS, its `module`\)/;
    assert.throws(() => task(bad as never, fn), cjs);
    assert.throws(() => isMain(bad as never), cjs);
  }
  // What a bundle to CommonJS (esbuild --format=cjs) makes of import.meta: the remedy named.
  const emptied = /got an object \(an empty object, as a bundle to CommonJS makes import\.meta: /
    .source
    + /bundle to ES modules, esbuild's --format=esm, or pass the CommonJS `module`\)\./.source;
  assert.throws(() => isMain({} as never), new RegExp(emptied));
  assert.throws(() => task({} as never, fn), new RegExp(emptied));
});

test("the module option refuses what is not a URL or path, naming the remedy, at once", () => {
  const cjs = { filename: fileURLToPath(TARGETS_URL), exports: {} };
  class Things extends BaseManager {}
  const makers: [string, (module: unknown) => unknown][] = [
    ["Process 'P'", (module) => new Process({ name: "P", target: unmarked, module } as never)],
    ["ProcessPoolExecutor", (module) => new ProcessPoolExecutor({ module } as never)],
    ["Pool", (module) => new Pool({ module } as never)],
    [
      "Things.register(\"Thing\")",
      (module) => Things.register("Thing", Object, { module } as never),
    ],
    [
      "ClusterExecutor",
      (module) =>
        new ClusterExecutor(
          { connection: "redis://127.0.0.1:1", queue: "q", root: ".", module } as never,
        ),
    ],
  ];
  const slips: [unknown, RegExp][] = [
    [import.meta, /got an object \(import\.meta itself: pass import\.meta\.url\)/],
    [cjs, /got an object \(a CommonJS module: pass its module\.filename \(or __filename\)\)/],
    [42, /got 42 \(pass import\.meta\.url, a URL or a path\)/],
    ["", /got an empty string/],
    [null, /got null/],
  ];
  for (const [what, make] of makers) {
    for (const [module, message] of slips) {
      assert.throws(() => make(module), (e: Error) => {
        assert.ok(e instanceof TypeError, `${what}: ${e}`);
        assert.ok(e.message.startsWith(`${what}: the module option must be`), e.message);
        assert.match(e.message, message);
        return true;
      });
    }
  }
});

test("isMain() is true only in the entry module of the main process", async () => {
  const r = await runScript("ismain.ts");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /entry=true imported=false/);
});

// A `multiproc worker` on Bun whose task module loaded another copy of the library: that copy
// took the child's "no main module" for "not looked for yet", looked again after the child had
// taken its parent's command line, and imported the parent's main script, the CLI: every child
// became a worker with children of its own. Not "forkserver": a spare imports the program on
// purpose (with isMain false), as documented.
for (const method of METHODS) {
  test(`a child whose target loads another copy of the library does not run the program (${method})`, async () => {
    const dir = tempDir(); // the copy: mod.ts and src/, as another install has them
    const root = fileURLToPath(new URL("..", import.meta.url));
    cpSync(join(root, "mod.ts"), join(dir, "mod.ts"));
    cpSync(join(root, "src"), join(dir, "src"), { recursive: true });
    const r = await runScript("two_copies.ts", [method, pathToFileURL(join(dir, "mod.ts")).href]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^the copy counts \d+ cores$/m);
    assert.match(r.stdout, /^process exit code 0$/m);
    assert.equal(r.stdout.match(/^program evaluated/gm)?.length, 1, r.stdout);
  });
}
