/**
 * Deno importing the library from a URL: the checkout is served on a loopback HTTP port, and a
 * program that imports `http://127.0.0.1:PORT/mod.ts` starts a `Process` and a
 * `ProcessPoolExecutor` under the Deno default and under `"process"`, with only the permissions
 * the README lists. Its children load the library from the same URL: the server sees them ask for
 * the entry scripts, which the parent never imports. Runs in the Deno job, with an empty
 * `DENO_DIR` so that nothing comes from an old cache.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RUNTIME, tempDir } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const skip = RUNTIME === "deno" ? false : "runs in the Deno job (it starts Deno itself)";

/** The program a user writes, importing the library from `lib`. */
const app = (lib: string) => `
import { currentProcess, getContext, isMain, task, Value } from "${lib}";
import type { StartMethod } from "${lib}";

export const add = task(import.meta, (v: Value<"i">, n: number) => {
  v.value += n;
});
export const where = task(import.meta, (x: number) => ({
  x: x * x,
  main: Deno.mainModule,
  name: currentProcess().name,
}));

if (isMain(import.meta)) {
  const method = Deno.args[0] === "default" ? undefined : Deno.args[0] as StartMethod;
  const ctx = getContext(method);
  const v = new ctx.Value("i", 1);
  const p = new ctx.Process({ target: add, args: [v, 41] });
  p.start();
  await p.join();
  await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: 2 });
  const calls = await Array.fromAsync(pool.map(where, [1, 2, 3]));
  console.log(JSON.stringify({
    method: ctx.getStartMethod(),
    value: v.value,
    exitCode: p.exitCode,
    squares: calls.map((c) => c.x),
    mains: [...new Set(calls.map((c) => c.main))],
    names: calls.every((c) => /^PoolWorker-[0-9]+$/.test(c.name)),
  }));
}
`;

let server: Server;
let origin = "";
const requested = new Set<string>();

before(async () => {
  if (skip) return;
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    requested.add(path);
    try {
      const body = await readFile(join(ROOT, path));
      const type = path.endsWith(".ts") ? "application/typescript" : "text/javascript";
      res.writeHead(200, { "content-type": type }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server?.close());

function runDeno(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`deno ${args.join(" ")} did not end within 120 s:\n${out}`));
    }, 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

for (
  const [method, entries, permissions] of [
    // Thread children, pool workers (daemons) among them, are Web Workers.
    ["default", ["/src/entry/web_worker.ts"], ["--allow-read"]],
    ["process", ["/src/entry/os_process.ts"], ["--allow-read", "--allow-run", "--allow-ffi"]],
  ] as const
) {
  test(`Deno imports mod.ts from a URL; Process and ProcessPoolExecutor (${method})`, {
    skip,
    timeout: 180_000,
  }, async () => {
    const dir = tempDir();
    await writeFile(join(dir, "app.ts"), app(`${origin}/mod.ts`));
    requested.clear();
    const host = new URL(origin).host;
    const r = await runDeno(
      ["run", "--no-prompt", `--allow-import=${host}`, ...permissions, "app.ts", method],
      dir,
      { DENO_DIR: join(dir, "deno-dir"), NO_COLOR: "1" },
    );
    assert.equal(r.code, 0, r.out);
    const result = JSON.parse(r.out.trim().split("\n").pop()!);
    assert.deepEqual(result, {
      method: method === "default" ? "thread" : "process",
      value: 42,
      exitCode: 0,
      squares: [1, 4, 9],
      // A process child's main module is the library's entry, from the same URL (a worker
      // thread has none).
      mains: [method === "process" ? `${origin}${entries[0]}` : null],
      names: true,
    });
    for (const entry of entries) {
      assert.ok(requested.has(entry), `no child asked for ${entry}: ${[...requested]}`);
    }
    assert.ok(requested.has("/src/pool/worker.ts"), "no pool worker loaded the library's worker");
    assert.ok(
      !requested.has("/src/entry/worker_thread.ts"),
      "a thread child ran on node:worker_threads: Deno's Web Worker had no ref method",
    );
  });
}
