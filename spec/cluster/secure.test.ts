/**
 * The README's security note, done as it says: a Redis that asks for a password (an ACL user's, in
 * the connection URL) serves the executor and `multiproc worker` (its URL from MULTIPROC_CONNECTION,
 * off its command line), neither of which ever prints it; a wrong password fails at once, saying
 * where the password goes. A Redis over TLS (`rediss://`, a certificate of a CA of the test's own)
 * with a password: served where the CA is trusted (NODE_EXTRA_CA_CERTS; DENO_CERT on Deno), also
 * through a restart of Redis while a task runs, refused with the certificate's error where it is
 * not.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BrokenProcessPool, ClusterExecutor } from "../../mod.ts";
import { runCommand, RUNTIME, scriptCommand, tempDir } from "../helpers.ts";
import { clusterFixture, ClusterWorkerProcess, RedisServer } from "./redis.ts";
import { double } from "./targets.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const fixture = clusterFixture("secure");

test(
  "a password in the URL: worker (from its environment) and executor use it, never print it",
  {
    timeout: 90_000,
  },
  async () => {
    const secret = `pw-${Math.random().toString(36).slice(2)}`;
    const url = await fixture.redis.addUser("app", secret);
    const queue = fixture.queue();
    // The URL from the environment (MULTIPROC_CONNECTION), not --connection: out of the process list.
    const worker = new ClusterWorkerProcess(["worker", "--queue", queue, "--root", ROOT], RUNTIME, {
      ...process.env,
      MULTIPROC_CONNECTION: url,
    });
    try {
      await worker.lines.wait(/^connected: /, 60_000, "multiproc worker");
      const cmdline = readFileSync(`/proc/${worker.child.pid}/cmdline`, "utf8");
      assert.ok(!cmdline.includes(secret), `the password is on the command line: ${cmdline}`);
      await using executor = new ClusterExecutor({ connection: url, queue, root: ROOT });
      assert.equal(await executor.submit(double, 21), 42);
    } finally {
      await worker.stop();
    }
    const log = worker.lines.all.join("\n");
    assert.match(log, /^connected: redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+, queue/m);
    assert.match(log, /finished in/);
    assert.ok(!log.includes(secret), `the worker's output shows the password:\n${log}`);
  },
);

test("a wrong password: the executor and the worker fail at once, saying what to do", {
  timeout: 90_000,
}, async () => {
  const secret = `pw-${Math.random().toString(36).slice(2)}`;
  await fixture.redis.addUser("app2", secret);
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
  const worker = new ClusterWorkerProcess(ClusterWorkerProcess.argv(wrong, "q", ROOT));
  const code = await new Promise<number | null>((resolve) => worker.child.once("exit", resolve));
  const out = worker.lines.all.join("\n");
  assert.equal(code, 1, out);
  assert.match(out, /multiproc worker: Redis at redis:\/\/app2:\*\*\*@.* refused/);
  assert.match(out, remedy);
  assert.ok(!out.includes(secret), out);
});

const haveOpenssl = spawnSync("openssl", ["version"]).status === 0;

/** A CA and a certificate it signed for 127.0.0.1, made with openssl in `dir`. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
  };
  const subject = (cn: string) => ["-subj", `/CN=${cn}`, "-nodes", "-newkey", "rsa:2048"];
  run("req", "-x509", ...subject("multiproc test CA"), "-keyout", "ca.key", "-out", "ca.crt");
  run("req", ...subject("127.0.0.1"), "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.cnf",
    "-out",
    "server.crt",
  );
  return { ca: join(dir, "ca.crt"), cert: join(dir, "server.crt"), key: join(dir, "server.key") };
}

test(
  "rediss:// with a password: served where its CA is trusted (a restart of Redis mid-task "
    + "included), refused with the certificate's error elsewhere",
  {
    timeout: 120_000,
    skip: haveOpenssl ? false : "openssl is not installed (apt-get install -y openssl)",
  },
  async () => {
    const secret = `pw-${Math.random().toString(36).slice(2)}`;
    const tls = certificates(tempDir());
    const redis = await RedisServer.start({ tls, password: secret });
    const trust = RUNTIME === "deno" ? { DENO_CERT: tls.ca } : { NODE_EXTRA_CA_CERTS: tls.ca };
    const env = { ...process.env, ...trust };
    const queue = fixture.queue();
    const { url } = redis;
    const client = (args: string[], clientEnv?: NodeJS.ProcessEnv) => {
      const [cmd, argv] = scriptCommand("cluster_client.ts", [url, queue, ROOT, ...args]);
      return runCommand(cmd, argv, { env: clientEnv, timeoutMs: 60_000 });
    };
    let worker: ClusterWorkerProcess | undefined;
    try {
      worker = new ClusterWorkerProcess(ClusterWorkerProcess.argv(url, queue, ROOT), RUNTIME, env);
      await worker.lines.wait(
        /^connected: rediss:\/\/:\*\*\*@/,
        60_000,
        "multiproc worker over TLS",
      );
      const trusted = await client([], env);
      assert.deepEqual(JSON.parse(trusted.stdout), { result: 42 }, trusted.stderr);
      // Redis killed while a task runs, and started again: both sides reconnect (TLS, password).
      const slow = client(["20000", "slow"], env);
      // `something`, the second task() of its module: the worker names it by its export.
      await worker.lines.wait(/ started: something /, 30_000, "the slow task started");
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.restart();
      const resumed = await slow;
      assert.deepEqual(JSON.parse(resumed.stdout), { result: "9--Woke Up" }, resumed.stderr);
      // Without the CA: past the limit, the error each attempt met (a certificate refused).
      const untrusted = await client(["2000"]);
      const { error } = JSON.parse(untrusted.stdout);
      assert.equal(error?.name, "BrokenProcessPool", untrusted.stdout + untrusted.stderr);
      assert.match(
        error.message,
        /Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ was unreachable for 2000 ms \(/,
      );
      assert.match(error.message, /certificate/i);
      assert.match(error.message, /trust the authority that signed its certificate/);
      assert.ok(!error.message.includes(secret), error.message);
      // A worker that does not trust the CA: it keeps retrying, its log saying why.
      const untrusting = new ClusterWorkerProcess(ClusterWorkerProcess.argv(url, queue, ROOT));
      try {
        await untrusting.lines.wait(
          /^connection lost: rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(.*certificate.*; reconnecting\)$/i,
          20_000,
          "the worker that does not trust the CA says why it cannot connect",
        );
      } finally {
        await untrusting.stop();
      }
      const log = [...worker.lines.all, ...untrusting.lines.all].join("\n");
      assert.ok(!log.includes(secret), `a worker's output shows the password:\n${log}`);
    } finally {
      await worker?.stop();
      await redis.kill();
    }
  },
);
