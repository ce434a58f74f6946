/**
 * A Redis that asks for a password (the README's security note): an ACL user's password in the
 * connection URL serves the executor and `multiproc worker`; neither ever prints it (logs, errors);
 * a wrong password fails at once with an error that says where the password goes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BrokenProcessPool, ClusterExecutor } from "../../mod.ts";
import { clusterFixture, ClusterWorkerProcess } from "./redis.ts";
import { double } from "./targets.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("credentials");

interface Admin {
  call(...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

/** A URL for a new ACL user of the fixture's Redis, whose password is `secret`. */
async function userUrl(user: string, secret: string): Promise<string> {
  const { default: IORedis } = await import("ioredis") as unknown as {
    default: new(url: string) => Admin;
  };
  const admin = new IORedis(fixture.redis.url);
  try {
    await admin.call("ACL", "SETUSER", user, "on", `>${secret}`, "~*", "&*", "+@all");
  } finally {
    await admin.quit();
  }
  return `redis://${user}:${secret}@127.0.0.1:${fixture.redis.port}`;
}

test("a password in the URL: the worker and the executor use it and never print it", {
  timeout: 90_000,
}, async () => {
  const secret = `pw-${Math.random().toString(36).slice(2)}`;
  const url = await userUrl("app", secret);
  const queue = fixture.queue();
  const worker = await ClusterWorkerProcess.start(url, queue, ROOT);
  try {
    await using executor = new ClusterExecutor({ connection: url, queue, root: ROOT });
    assert.equal(await executor.submit(double, 21), 42);
  } finally {
    await worker.stop();
  }
  const log = worker.lines.all.join("\n");
  assert.match(log, /^connected: redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+, queue/m);
  assert.match(log, /finished in/);
  assert.ok(!log.includes(secret), `the worker's output shows the password:\n${log}`);
});

test("a wrong password: the executor and the worker fail at once, saying what to do", {
  timeout: 90_000,
}, async () => {
  const secret = `pw-${Math.random().toString(36).slice(2)}`;
  await userUrl("app2", secret);
  const wrong = `redis://app2:not-${secret}@127.0.0.1:${fixture.redis.port}`;
  const remedy = /put its password in the URL, redis:\/\/:PASSWORD@host:port/;
  const t0 = performance.now();
  await using executor = new ClusterExecutor({ connection: wrong, queue: "q", root: ROOT });
  const error = await executor.submit(double, 1).result(20_000).then(
    () => assert.fail("a task ran with a wrong password"),
    (e: Error) => e,
  );
  assert.ok(error instanceof BrokenProcessPool, `${error}`);
  assert.match(error.message, /Redis at redis:\/\/app2:\*\*\*@127\.0\.0\.1:\d+ refused/);
  assert.match(error.message, /WRONGPASS/);
  assert.match(error.message, remedy);
  assert.ok(!error.message.includes(secret), error.message);
  assert.ok(performance.now() - t0 < 10_000, "it failed without waiting for a limit");

  // The worker: exits 1 with the same advice, its output free of the password.
  const worker = new ClusterWorkerProcess([
    "worker",
    "--connection",
    wrong,
    "--queue",
    "q",
    "--root",
    ROOT,
  ]);
  const code = await new Promise<number | null>((resolve) => worker.child.once("exit", resolve));
  const out = worker.lines.all.join("\n");
  assert.equal(code, 1, out);
  assert.match(out, /multiproc worker: Redis at redis:\/\/app2:\*\*\*@.* refused/);
  assert.match(out, remedy);
  assert.ok(!out.includes(secret), out);
});
