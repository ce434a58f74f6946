/**
 * The target finder as a unit: what the parent resolves (`resolveTarget`) and what a child then
 * finds (`findTarget`) for every declaration form — in one isolate the round trip must give back
 * the very function —, a module still evaluating, the library's own stack frames skipped however
 * they are named, and the errors for a target that cannot be found. End to end: every form as
 * a target from an entry module still evaluating, under both start methods.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cpuCount, sleep } from "../mod.ts";
import { callerModule } from "../src/targets/callsite.ts";
import { noteEntryEvaluating } from "../src/targets/evaluating.ts";
import { findTarget, resolveTarget, sourceHash, type TargetRef } from "../src/targets/task.ts";
import * as forms from "./fixtures/finder/forms.ts";
import { METHODS, runScript } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;

const FORMS_URL = new URL("./fixtures/finder/forms.ts", import.meta.url).href;
const HERE = new URL(import.meta.url).href.split("?")[0];

async function roundTrip(fn: Fn, module?: string): Promise<{ ref: TargetRef; found: Fn }> {
  const ref = await resolveTarget(fn, module, () => HERE, "test");
  // What the child receives crosses by structured clone.
  const found = await findTarget(structuredClone(ref), "test");
  return { ref, found };
}

const exported: [string, Fn, string][] = [
  ["export function", forms.declared, "declared"],
  ["export const f = () =>", forms.arrow, "arrow"],
  ["export { f as g }", forms.renamed, "renamed"],
  ["export default", forms.default, "default"],
];

for (const [form, fn, exportName] of exported) {
  test(`finder: ${form} is found by identity in a module that has evaluated`, async () => {
    const { ref, found } = await roundTrip(fn, FORMS_URL);
    assert.equal(ref.exportName, exportName);
    assert.equal(ref.mark, undefined);
    assert.equal(found, fn);
  });
}

const marked: [string, Fn][] = [
  ["a task() mark through a namespace import (mp.task)", forms.viaNamespace],
  ["a task() mark through a renamed import (task as t)", forms.viaRenamedTask],
  ["a task() mark on a function the module does not export", forms.hiddenTarget()],
  ["a task() mark on one of two closures with the same source", forms.markedTriple],
];

for (const [form, fn] of marked) {
  test(`finder: ${form} is found by its mark's ordinal, no export name`, async () => {
    // No module option, and a caller that does not export it: the mark alone finds it.
    const { ref, found } = await roundTrip(fn);
    assert.equal(ref.url, FORMS_URL);
    assert.equal(typeof ref.mark, "number");
    assert.equal(ref.exportName, undefined);
    assert.equal(found, fn);
  });
}

test("finder: the library's exports and the runtime's built-ins are found where a child has them", async () => {
  for (const [fn, exportName] of [[sleep, "sleep"], [cpuCount, "cpuCount"]] as const) {
    const { ref, found } = await roundTrip(fn);
    assert.equal(ref.exportName, exportName);
    assert.match(ref.url, /\/mod\.(ts|js)$/);
    assert.equal(found, fn);
  }
  for (
    const [fn, path] of [[Math.sqrt, "Math.sqrt"], [JSON.stringify, "JSON.stringify"], [
      parseInt,
      "parseInt",
    ]] as const
  ) {
    const { ref, found } = await roundTrip(fn);
    assert.deepEqual([ref.url, ref.exportName], ["multiproc:globalThis", path]);
    assert.equal(found, fn);
  }
  // A bound function reads as native code too, but is no built-in: not exported, as before.
  const bound = Math.max.bind(null, 1);
  await assert.rejects(resolveTarget(bound, FORMS_URL, () => undefined, "test"), /not exported/);
  const missing: TargetRef = { url: "multiproc:globalThis", name: "f", exportName: "Nowhere.f" };
  await assert.rejects(
    findTarget(missing, "test"),
    /the built-in function 'Nowhere\.f' is not there/,
  );
});

test("finder: an unexported closure is refused even when an export has the same source", async () => {
  const stray = forms.unexported();
  await assert.rejects(resolveTarget(stray, FORMS_URL, () => undefined, "test"), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^test: target 'stray' is not exported from '.*forms\.ts'/);
    assert.match(e.message, /task\(import\.meta/);
    assert.match(e.message, /module: import\.meta\.url/);
    assert.match(e.message, /export it from the module that makes this call/);
    return true;
  });
});

test("finder: an export of a module still evaluating is confirmed by the child", async () => {
  let release!: () => void;
  const g = globalThis as unknown as { finderPending: { fns: Fn[]; release: Promise<void> } };
  g.finderPending = { fns: [], release: new Promise<void>((r) => (release = r)) };
  const url = new URL("./fixtures/finder/evaluating.ts", import.meta.url).href;
  noteEntryEvaluating(url);
  const evaluated = import(url);
  while (g.finderPending.fns.length === 0) await new Promise((r) => setTimeout(r, 5));
  const [declared, renamed, , byDefault] = g.finderPending.fns;
  // Resolving must not wait for the module (that would deadlock the notebook's shape).
  const refs = await Promise.all(
    g.finderPending.fns.map((fn) => resolveTarget(fn, url, () => undefined, "test")),
  );
  for (const ref of refs) {
    assert.equal(ref.exportName, undefined, "no export name can be confirmed mid-evaluation");
    assert.equal(ref.mark, undefined);
  }
  // The module given (not exporting it), then the caller still evaluating: the child's error
  // names both, not only the last.
  const viaModule = await resolveTarget(g.finderPending.fns[2], FORMS_URL, () => url, "test");
  assert.deepEqual([viaModule.url, viaModule.searched], [url, [FORMS_URL]]);
  release();
  await evaluated;
  await assert.rejects(
    findTarget(structuredClone(viaModule), "test"),
    /^TypeError: test: target 'notHere' is not exported from '.*forms\.ts' or '.*evaluating\.ts'/,
  );
  assert.equal(await findTarget(structuredClone(refs[0]), "test"), declared);
  assert.equal(await findTarget(structuredClone(refs[1]), "test"), renamed);
  assert.equal(await findTarget(structuredClone(refs[3]), "test"), byDefault);
  // A factory's closure that is not exported: the export made by the same code (same text, its
  // own name or none) is another function, and the child says so instead of running it.
  const closures: [TargetRef, string, string][] = [
    [refs[4], "<anonymous function>", "addTwo"],
    [refs[5], "scaledBy", "double"],
  ];
  for (const [ref, name, other] of closures) {
    await assert.rejects(findTarget(structuredClone(ref), "test"), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.equal(e.message.split(" in ")[0], `test: target '${name}' cannot be confirmed`);
      assert.match(e.message, new RegExp(`its export '${other}' has the target's source`));
      assert.match(e.message, /task\(import\.meta/);
      return true;
    });
  }
  await assert.rejects(findTarget(structuredClone(refs[2]), "test"), (e: Error) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /^test: target 'notHere' is not exported from '.*evaluating\.ts'/);
    assert.match(e.message, /task\(import\.meta/);
    return true;
  });
});

test("finder: a child refuses a same-named export whose source differs", async () => {
  const ref = await resolveTarget(forms.declared, FORMS_URL, () => undefined, "test");
  const forged: TargetRef = { url: ref.url, name: "declared", source: "0.0" };
  await assert.rejects(findTarget(forged, "test"), /target 'declared' is not exported/);
});

test("finder: two exported closures with one name and source are ambiguous in a child", async () => {
  const { ref } = await roundTrip(forms.triple, FORMS_URL);
  assert.equal(ref.exportName, "triple");
  const byName: TargetRef = { url: ref.url, name: ref.name, source: sourceHash(forms.triple) };
  await assert.rejects(findTarget(byName, "test"), /several functions named 'scaled'/);
});

test("finder: the caller is the first frame outside the library, however it is named", () => {
  const root = new URL("../", import.meta.url).href;
  const user = "file:///home/me/app/main.ts";
  const frames = [
    `    at new Process (${root}src/process/process.ts:123:20)`, // the checkout, or source-mapped dist
    `    at Functions.entry (${root}dist/chunk-ABC123.js:10:5)`, // the bundle
    `    at Object.submit (${root.replace("file://", "")}dist/mod.js:1:1)`, // Bun: a path
    `    at ${root}mod.ts:5:1`,
    `    at main (${user}:12:3)`,
    `    at async ${user}:20:1`,
  ];
  assert.equal(callerModule(["Error", ...frames].join("\n")), user);
  const viaUrl = "http://127.0.0.1:8000/";
  assert.equal(
    callerModule(
      ["Error", `    at x (${viaUrl}src/targets/task.ts:1:1)`, `    at ${user}:1:1`].join("\n"),
    ),
    `${viaUrl}src/targets/task.ts`,
    "another copy of the library served from a URL is a caller like any other module",
  );
  assert.equal(callerModule(["Error", `    at node:internal/x:1:1`].join("\n")), undefined);
});

for (const method of METHODS) {
  test(`finder end to end: every form from an entry module still evaluating [${method}]`, async () => {
    const r = await runScript("finder_main.ts", [method]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    for (
      const expected of [
        "a: here declared",
        "hereDeclared exit 0",
        "b: here renamed",
        "hereRenamed exit 0",
        "c: here namespace mark",
        "hereNamespace exit 0",
        "d: here hidden mark",
        "hereHidden exit 0",
        "pool: namespace 5",
        "pool hidden: hidden 6",
        "pool triple: 21",
        "e: here declared",
        "pool here: undefined",
        "pool builtin: 2 3",
        "pool library: number",
        "h: from console.log",
        "builtinProcess exit 0",
        "pool starmap first: 3 7",
      ]
    ) assert.ok(lines.includes(expected), `missing '${expected}' in:\n${r.stdout}\n${r.stderr}`);
    const refused = lines.find((l) => l.startsWith("notExported rejected: "));
    assert.ok(refused, r.stdout);
    assert.match(
      refused,
      /Cannot start process 'Process-\d+': target 'notExported' is not exported/,
    );
    assert.match(refused, /finder_main\.ts/);
    // A closure of the factory that made the export `twice`: refused, not run as `twice`.
    assert.ok(!lines.some((l) => /scaled by/.test(l)), r.stdout);
    const closure = lines.find((l) => l.startsWith("closure rejected: "));
    assert.match(
      closure ?? r.stdout,
      /Cannot start process 'Process-\d+': target '<anonymous function>' cannot be confirmed in '.*finder_main\.ts'.*its export 'twice'/,
    );
    assert.match(
      lines.find((l) => l.startsWith("pool closure: ")) ?? r.stdout,
      /^pool closure: TypeError: .*target '<anonymous function>' cannot be confirmed .*task\(import\.meta/,
    );
  });
}
