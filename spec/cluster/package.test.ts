/**
 * The cluster from the installed package, as a user runs it: `npm pack`, the tarball installed in
 * a fresh project (offline), the `multiproc worker` command from its `bin` (and through
 * `bunx --bun`, and under tsx), and a client program that namespace-imports the package (on Node
 * 20, Bun and Node 24; a TypeScript one under tsx and Node 24's type stripping). Before the
 * cluster's packages (optional peers) are there, a pool program runs without them and a
 * ClusterExecutor says what to install.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { OFFLINE, runCommand, RUNTIME, tempDir } from "../helpers.ts";
import { RedisServer } from "./redis.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MODULES = join(ROOT, "node_modules");
const env = () => ({
  ...process.env,
  PATH: `${join(MODULES, ".bin")}:${process.env.PATH}`,
  ...OFFLINE,
});

const TASKS = `import { task } from "multiproc";
export const triple = task(import.meta, (x) => 3 * x);
export const describe = task(import.meta, (m) => ({ keys: [...m.keys()], when: new Date(0) }));
export const text = task(import.meta, (n) => "y".repeat(n));
export const total = task(import.meta, (bytes) => bytes.reduce((a, b) => a + b, 0));
`;

const POOL = `import * as mp from "multiproc";
import { triple } from "./tasks.mjs";
if (mp.isMain(import.meta)) {
  const pool = new mp.ProcessPoolExecutor({ maxWorkers: 2 });
  console.log(JSON.stringify(await pool.submit(triple, 14)));
  await pool.shutdown();
}
`;

const CLIENT = `import * as mp from "multiproc";
import { describe, text, total, triple } from "./tasks.mjs";
if (mp.isMain(import.meta)) {
  const [connection, queue] = process.argv.slice(2);
  const cluster = new mp.ClusterExecutor({ connection, queue, root: new URL(".", import.meta.url) });
  const done = [];
  for await (const f of mp.asCompleted([1, 2, 3].map((x) => cluster.submit(triple, x)))) {
    done.push(await f.result());
  }
  const mapped = [];
  for await (const y of cluster.map(triple, [1, 2, 3, 4], { chunksize: 2 })) mapped.push(y);
  const d = await cluster.submit(describe, new Map([["a", 1]]));
  // Over 1 MiB: an argument (bytes) and a result (JSON text), each in a key of its own.
  const large = [
    await cluster.submit(total, new Uint8Array(3 << 20).fill(5)),
    (await cluster.submit(text, 1_500_000)).length,
  ];
  await cluster.shutdown();
  // Arguments, then a result, over the limit: each fails its task alone, saying so.
  const root = new URL(".", import.meta.url);
  const tight = new mp.ClusterExecutor({ connection, queue, root, maxTaskBytes: 1000 });
  const over = [
    await tight.submit(triple, "x".repeat(2000)).exception(),
    await tight.submit(text, 2000).exception(),
  ].map((e) => e instanceof RangeError && /more than maxTaskBytes \\(1000 bytes\\)/.test(e.message));
  over.push(await tight.submit(triple, 5) === 15);
  await tight.shutdown();
  const date = d.when instanceof Date;
  console.log(JSON.stringify({ done: done.sort(), mapped, keys: d.keys, date, over, large }));
}
`;

/** A TypeScript task module and its client: Node 24 strips the types, Bun transpiles them. */
const TASKS_TS = `import { task } from "multiproc";
export const quadruple = task(import.meta, (x: number): number => 4 * x);
`;

const CLIENT_TS = `import * as mp from "multiproc";
import { quadruple } from "./tasks_ts.ts";
const [connection, queue] = process.argv.slice(2);
const cluster = new mp.ClusterExecutor({ connection, queue, root: new URL(".", import.meta.url) });
const f = cluster.submit(quadruple, 5);
const e = await f.exception();
console.log(e ? (e as Error).message : JSON.stringify(await f.result()));
await cluster.shutdown();
`;

test("the installed package: multiproc worker from its bin, a client importing * as mp", {
  skip: RUNTIME === "node" ? false : "runs once, in the Node job (it builds and installs)",
  timeout: 600_000,
}, async () => {
  const dir = tempDir();
  execFileSync("npm", ["pack", "--pack-destination", dir], {
    cwd: ROOT,
    env: env(),
    stdio: "pipe",
  });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  assert.ok(tgz, "npm pack made no tarball");
  /** A new project folder `name` with the tarball installed (koffi from this checkout: offline). */
  const installIn = (name: string): string => {
    const folder = join(dir, name);
    mkdirSync(folder);
    writeFileSync(
      join(folder, "package.json"),
      JSON.stringify({
        name: `cluster-${name.replace(/[^a-z]/g, "")}`,
        type: "module",
        private: true,
        overrides: { koffi: `file:${join(MODULES, "koffi")}` },
      }),
    );
    execFileSync("npm", ["install", "--no-audit", "--no-fund", join(dir, tgz)], {
      cwd: folder,
      env: env(),
      stdio: "pipe",
      timeout: 240_000,
    });
    return folder;
  };
  // The project in a folder named as users' are: a space, a `#`, parentheses, a letter outside
  // ASCII (in module URLs and paths relative to --root, on both sides).
  const app = installIn("cluster app #1 (\u00fc)");
  // A second install, as a worker installed apart from the project (globally, or in a tool's
  // folder): its tasks load the project's copy of the package, a second copy in the child.
  const tool = installIn("tool");
  writeFileSync(join(app, "tasks.mjs"), TASKS);
  writeFileSync(join(app, "pool.mjs"), POOL);
  writeFileSync(join(app, "client.mjs"), CLIENT);
  writeFileSync(join(app, "tasks_ts.ts"), TASKS_TS);
  writeFileSync(join(app, "client_ts.ts"), CLIENT_TS);

  // Without the cluster's packages: a pool program runs; a cluster says what to install.
  const pool = await runCommand("node", ["pool.mjs"], { cwd: app, timeoutMs: 60_000 });
  assert.equal(pool.code, 0, pool.stderr);
  assert.equal(pool.stdout.trim(), "42");
  const missing = await runCommand("node", ["client.mjs", "redis://127.0.0.1:9", "q"], {
    cwd: app,
    timeoutMs: 60_000,
  });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /npm install bullmq ioredis msgpackr/);

  // With them (linked from this checkout: no network), a worker and a client.
  for (const name of ["bullmq", "ioredis", "msgpackr"]) {
    symlinkSync(join(MODULES, name), join(app, "node_modules", name), "dir");
    symlinkSync(join(MODULES, name), join(tool, "node_modules", name), "dir");
  }
  symlinkSync(join(MODULES, "tsx"), join(app, "node_modules", "tsx"), "dir");
  const redis = await RedisServer.start();
  // As the README advises: a password, which the workers' output must not show.
  const secret = `pw-${Math.random().toString(36).slice(2)}`;
  const url = await redis.addUser("app", secret);
  const bin = join(app, "node_modules", ".bin", "multiproc");
  /**
   * `cmd [...pre] worker --connection <redis> --root <app> ...flags` (with `extraEnv`), once it
   * says it is connected.
   */
  const startWorker = async (
    cmd: string,
    flags: string[],
    pre: string[] = [],
    extraEnv: Record<string, string> = {},
  ) => {
    const child = spawn(
      cmd,
      [...pre, "worker", "--connection", url, "--root", app, ...flags],
      {
        cwd: app,
        env: { ...env(), ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    const deadline = Date.now() + 60_000;
    while (!/^connected: /m.test(log) && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const stop = async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.exitCode !== null ? r(null) : child.once("exit", r));
    };
    if (!/^connected: /m.test(log)) {
      await stop();
      assert.fail(`${cmd} ${pre.join(" ")} worker did not connect:\n${log}`);
    }
    return { log: () => log, stop };
  };
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    worker = await startWorker(bin, ["--queue", "app", "--concurrency", "2"]);
    const NODE24 = join(MODULES, "node24", "bin", "node");
    // Deno too: the package under node_modules loads the cluster's packages from there.
    const DENO = join(MODULES, ".bin", "deno");
    for (const runtime of ["node", join(MODULES, ".bin", "bun"), NODE24, DENO]) {
      const pre = runtime === DENO ? ["run", "-A"] : [];
      const client = await runCommand(runtime, [...pre, "client.mjs", url, "app"], {
        cwd: app,
        timeoutMs: 60_000,
      });
      assert.equal(client.code, 0, `${runtime}: ${client.stderr}\n${worker.log()}`);
      assert.deepEqual(JSON.parse(client.stdout), {
        done: [3, 6, 9],
        mapped: [3, 6, 9, 12],
        keys: ["a"],
        date: true,
        over: [true, true, true],
        large: [5 * (3 << 20), 1_500_000],
      });
    }
    assert.match(worker.log(), /job \S+ finished in/);
    // A TypeScript program under tsx (node --import tsx, the tsx command) on Node 20: this worker,
    // on Node 20 with no loader, cannot import its task's module and says how to start it; a
    // worker started under tsx as that says runs it.
    const tsClient = (runtime: string, pre: string[], queue: string) =>
      runCommand(runtime, [...pre, "client_ts.ts", url, queue], { cwd: app, timeoutMs: 60_000 });
    const refused = await tsClient("node", ["--import", "tsx"], "app");
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(
      refused.stdout,
      /^Cannot load TypeScript module '.*tasks_ts\.ts': .* start the worker under tsx: NODE_OPTIONS='--import tsx' npx multiproc worker/,
    );
    const tsxWorker = await startWorker(bin, ["--queue", "app-tsx"], [], {
      NODE_OPTIONS: "--import tsx",
    });
    try {
      const TSX = join(MODULES, ".bin", "tsx");
      for (const [runtime, pre] of [["node", ["--import", "tsx"]], [TSX, []]] as const) {
        const ts = await tsClient(runtime, [...pre], "app-tsx");
        assert.equal(ts.code, 0, `${runtime} ${pre.join(" ")}: ${ts.stderr}\n${tsxWorker.log()}`);
        assert.equal(ts.stdout.trim(), "20", `${runtime} ${pre.join(" ")}: ${tsxWorker.log()}`);
      }
    } finally {
      await tsxWorker.stop();
    }
    assert.ok(!worker.log().includes(secret), `the worker printed the password:\n${worker.log()}`);
    // The same command through bunx, on Bun (a second queue, so that only it takes the jobs).
    const bunx = await startWorker(join(MODULES, ".bin", "bun"), ["--queue", "app-bun"], [
      "x",
      "--bun",
      "multiproc",
    ]);
    try {
      const client = await runCommand("node", ["client.mjs", url, "app-bun"], {
        cwd: app,
        timeoutMs: 60_000,
      });
      assert.equal(client.code, 0, `bunx worker: ${client.stderr}\n${bunx.log()}`);
      assert.deepEqual(JSON.parse(client.stdout).mapped, [3, 6, 9, 12]);
      assert.match(bunx.log(), /job \S+ finished in/);
      // A TypeScript task from a client on another runtime (Node 24 strips its types; the Bun
      // worker transpiles them, and prints the function differently).
      const ts = await tsClient(join(MODULES, "node24", "bin", "node"), [], "app-bun");
      assert.equal(ts.code, 0, `TypeScript client: ${ts.stderr}\n${bunx.log()}`);
      assert.equal(ts.stdout.trim(), "20");
    } finally {
      await bunx.stop();
    }
    // The tool's worker, on Node and on Bun: the child that runs a task loads the project's copy
    // too, and must not run the worker's program again (one "connected:" line, no more workers).
    const toolCli = join(tool, "node_modules", "multiproc", "dist", "cli.js");
    for (const [name, cmd] of [["node", "node"], ["bun", join(MODULES, ".bin", "bun")]]) {
      const queue = `tool-${name}`;
      const apart = await startWorker(cmd, ["--queue", queue], [toolCli]);
      try {
        const client = await runCommand("node", ["client.mjs", url, queue], {
          cwd: app,
          timeoutMs: 60_000,
        });
        assert.equal(client.code, 0, `${queue} worker: ${client.stderr}\n${apart.log()}`);
        assert.deepEqual(JSON.parse(client.stdout).mapped, [3, 6, 9, 12]);
        assert.equal(
          apart.log().match(/^connected: /gm)?.length,
          1,
          `${queue}: a task's child ran the worker program again:\n${apart.log()}`,
        );
      } finally {
        await apart.stop();
      }
    }
  } finally {
    await worker?.stop();
    await redis.kill();
  }
  // A usage error says what is wrong and how to call it.
  const usage = await runCommand(bin, ["worker", "--queue", "q"], { cwd: app, timeoutMs: 30_000 });
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--connection is required[\s\S]*usage: multiproc worker/);
});
