/**
 * The documentation holds: every public export has JSDoc with an `@example`, and the examples —
 * in the JSDoc of every module and the `ts` blocks of README.md and docs/ — type-check against
 * the library (`deno check --doc`, `--doc-only`; they import `multiproc`, mapped to `mod.ts` by
 * deno.json). Runs in the Deno job, whose runtime is the checker.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { RUNTIME } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const skip = RUNTIME === "deno" ? false : "runs in the Deno job (deno doc, deno check)";

function deno(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const files = (dir: string, ext: string) =>
  (readdirSync(`${ROOT}/${dir}`, { recursive: true }) as string[])
    .filter((f) => f.endsWith(ext))
    .map((f) => `${dir}/${f}`)
    .sort();

interface DocNode {
  name: string;
  declarations: { kind: string; jsDoc?: { tags?: { kind: string; doc?: string }[] } }[];
}

test("every public export has JSDoc with an @example", { skip }, () => {
  const r = deno(["doc", "--json", "mod.ts"]);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { nodes: Record<string, { symbols: DocNode[] }> };
  const symbols = Object.values(doc.nodes).flatMap((n) => n.symbols);
  assert.ok(symbols.length >= 60, `deno doc found only ${symbols.length} exports`);
  const missing = symbols.filter((s) =>
    !s.declarations.some((d) => d.jsDoc?.tags?.some((t) => t.kind === "example" && t.doc))
  ).map((s) => `${s.name} (${s.declarations[0].kind})`);
  assert.deepEqual(missing, [], `exports without an @example: ${missing.join(", ")}`);
});

test("the JSDoc examples of every module type-check", { skip, timeout: 300_000 }, () => {
  const modules = ["mod.ts", ...files("src", ".ts")];
  const r = deno(["check", "--doc", ...modules]);
  assert.equal(r.code, 0, r.out + r.err);
  const checked = (r.out + r.err).match(/^Check .*#\d+-\d+\.ts$/gm) ?? [];
  assert.ok(checked.length >= 65, `only ${checked.length} examples were checked:\n${r.err}`);
});

test("the ts blocks of README.md and docs/ type-check", { skip, timeout: 300_000 }, () => {
  const r = deno(["check", "--doc-only", "README.md", ...files("docs", ".md")]);
  assert.equal(r.code, 0, r.out + r.err);
  const checked = (r.out + r.err).match(/^Check README\.md#\d+-\d+\.ts$/gm) ?? [];
  assert.ok(checked.length >= 7, `only ${checked.length} README blocks were checked:\n${r.err}`);
});
