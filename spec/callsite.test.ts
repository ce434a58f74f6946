/**
 * Reading the calling module from a stack: each frame format the runtimes write (V8's URLs, its
 * CommonJS paths, Bun's paths), with the characters folders have (spaces, `#`, parentheses,
 * letters outside ASCII), and the frames of no module file skipped.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { callerModule, frameLocation } from "../src/targets/callsite.ts";
import { tempDir } from "./helpers.ts";

const DIR = "/home/me/My Code #1 (\u00fc)";

test("frameLocation() reads the module of every frame format", () => {
  const cases: [string, string][] = [
    // V8, ES modules: URLs (Node, Deno)
    ["    at main (file:///srv/app/main.ts:12:7)", "file:///srv/app/main.ts"],
    ["    at file:///srv/app/main.ts:3:1", "file:///srv/app/main.ts"],
    ["    at async Promise.then (file:///srv/app/a%20b/m.js:1:2)", "file:///srv/app/a%20b/m.js"],
    [
      "    at f (file:///home/me/My%20Code%20%231%20(%C3%BC)/app.ts:5:3)",
      "file:///home/me/My%20Code%20%231%20(%C3%BC)/app.ts",
    ],
    ["    at https://example.org/lib/mod.ts:1:9", "https://example.org/lib/mod.ts"],
    // V8, CommonJS, and Bun: paths, as they are
    [`    at Object.<anonymous> (${DIR}/app.cjs:46:3)`, `${DIR}/app.cjs`],
    [`    at new Worker (${DIR}/app.cjs:4:1)`, `${DIR}/app.cjs`],
    [`    at ${DIR}/app.mjs:43:12`, `${DIR}/app.mjs`],
    [
      `    at main (${DIR}/node_modules/@scope/pkg/index.js:1:2)`,
      `${DIR}/node_modules/@scope/pkg/index.js`,
    ],
    // JSC's own format
    [`main@${DIR}/app.mjs:2:3`, `${DIR}/app.mjs`],
  ];
  for (const [line, location] of cases) assert.equal(frameLocation(line), location, line);
});

test("frameLocation() skips frames of no module file", () => {
  for (
    const line of [
      "    at node:internal/main/run_main_module:28:49",
      "    at ext:core/01_core.js:1:2",
      "    at async Promise.all (index 0)",
      "    at Array.forEach (<anonymous>)",
      "    at forEach (1:11)",
      "    at processTicksAndRejections (native:7:39)",
      "    at eval (eval at <anonymous> (file:///srv/app/main.ts:1:1), <anonymous>:1:1)",
      "    at file:///srv/app/[eval1]:1:40",
      "    at [eval]:1:12",
      "    at f (file:///srv/app/[stdin]:2:3)",
      "Error: something",
    ]
  ) {
    assert.equal(frameLocation(line), undefined, line);
  }
});

test("callerModule() gives the first module outside the library, as a URL", () => {
  const own = new URL("../src/targets/task.ts", import.meta.url).href;
  const stack = [
    "Error",
    `    at resolveTarget (${own}:10:5)`,
    "    at internal (node:internal/x:1:1)",
    `    at main (${DIR}/app.cjs:26:35)`,
    "    at later (file:///srv/app/other.js:1:1)",
  ];
  assert.equal(
    callerModule(stack.join("\n")),
    "file:///home/me/My%20Code%20%231%20(%C3%BC)/app.cjs",
  );
  assert.equal(callerModule(stack.slice(0, 3).join("\n")), undefined, "no caller outside");
  // Deno's frames in a Web Worker hold file URLs decoded: taken as the same module's URL.
  const inWorker = [
    "Error",
    `    at resolveTarget (${own}:1:1)`,
    `    at file://${DIR}/app.ts:3:7`,
  ];
  assert.equal(
    callerModule(inWorker.join("\n")),
    "file:///home/me/My%20Code%20%231%20(%C3%BC)/app.ts",
  );
});

// tsx's source maps call a .mts or .cts module .ts when its path has a letter outside ASCII.
test("callerModule() takes the .mts or .cts module a frame names .ts when only that exists", () => {
  const dir = join(tempDir(), "\u00fc");
  mkdirSync(dir);
  for (const name of ["a.mts", "b.cts", "c.ts", "c.mts"]) writeFileSync(join(dir, name), "");
  const frame = (name: string) => ["Error", `    at f (${join(dir, name)}:1:2)`].join("\n");
  const url = (name: string) => pathToFileURL(join(dir, name)).href;
  assert.equal(callerModule(frame("a.ts")), url("a.mts"));
  assert.equal(callerModule(frame("b.ts")), url("b.cts"));
  assert.equal(callerModule(frame("c.ts")), url("c.ts"), "the .ts file exists: taken");
  assert.equal(callerModule(frame("d.ts")), url("d.ts"), "none exists: as named");
});
