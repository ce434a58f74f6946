/**
 * `Listener`, `Client` and `connectionWait` (CPython's `multiprocessing.connection`): message
 * connections between programs over Unix sockets and TCP, the `authkey` handshake that refuses a
 * peer without the key before any message is read, and waiting on several objects at once.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  AuthenticationError,
  Client,
  connectionWait,
  EOFError,
  getContext,
  Listener,
  Pipe,
  Queue,
  type SocketAddress,
  Value,
} from "../mod.ts";
import { exitAfter, talk, talkForever } from "./fixtures/connection_targets.ts";
import {
  METHODS,
  patternedBytes,
  runCommand,
  sameBytes,
  scriptCommand,
  tempDir,
} from "./helpers.ts";

const LOOPBACK = { host: "127.0.0.1", port: 0 };

/** A listener and a client connected to it, authenticated with `key`. */
async function pair(key = "secret", address: SocketAddress = LOOPBACK) {
  const listener = new Listener({ address, authkey: key });
  const at = await listener.ready;
  const [server, client] = await Promise.all([
    listener.accept(),
    Client({ address: at, authkey: key }),
  ]);
  return { listener, at, server, client };
}

test("Listener/Client: values of every kind cross a TCP connection, in order", async () => {
  const { listener, at, server, client } = await pair();
  assert.equal(typeof at, "object");
  assert.ok((at as { port: number }).port > 0, "port 0 gives the port the OS picked");
  assert.deepEqual(listener.address, at);
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const values = [
    42,
    -0, // kept (it came back as 0: a user's try)
    -1.5,
    "héllo",
    2n ** 80n,
    -7n,
    null,
    undefined,
    true,
    [1, [2, [3]]],
    { a: { b: new Date(1234) } },
    new Map<unknown, unknown>([[1, "one"], ["two", new Set([2])]]),
    new Float32Array([1.5, 2.5]),
    new Uint8Array([0, 255]),
    new BigInt64Array([-1n]),
    /ab+c/gi,
    Object.assign(new RangeError("bad", { cause: "why" }), { code: 7 }),
  ];
  for (const v of values) client.send(v);
  for (const v of values) assert.deepEqual(await server.recvAsync(), v);
  client.send(cyclic);
  const back = (await server.recvAsync()) as Record<string, unknown>;
  assert.equal(back.self, back, "a cycle stays a cycle");
  const error = values.at(-1) as RangeError;
  server.send(error);
  const got = (await client.recvAsync()) as RangeError & { code: number };
  assert.ok(got instanceof RangeError);
  assert.equal(got.message, "bad");
  assert.equal(got.cause, "why");
  assert.equal(got.code, 7);
  assert.equal(got.stack, error.stack);
  client.close();
  server.close();
  listener.close();
});

test("Listener/Client: bytes, maxLength, poll and the synchronous recv() on a socket", async () => {
  const { listener, server, client } = await pair();
  assert.equal(server.poll(), false, "nothing yet");
  assert.throws(() => server.recv(), /cannot block the thread.*recvAsync/);
  assert.throws(() => server.poll(100), /cannot block the thread/);
  client.sendBytes(new Uint8Array([1, 2, 3, 4, 5]), 1, 3);
  assert.equal(await server.pollAsync(2000), true);
  assert.equal(server.poll(), true);
  assert.deepEqual(server.recvBytes(), new Uint8Array([2, 3, 4]));
  client.sendBytes(new Uint8Array(10));
  await assert.rejects(server.recvBytesAsync(4), /10 bytes, more than maxLength 4/);
  client.send("sync");
  await server.pollAsync(2000);
  assert.equal(server.recv(), "sync", "recv() returns what has arrived");
  assert.equal(await server.pollAsync(50), false, "pollAsync times out");
  client.close();
  await assert.rejects(server.recvAsync(), EOFError, "the peer's close ends the stream");
  assert.throws(() => server.send(1), EOFError);
  server.close();
  assert.throws(() => server.send(1), /closed/);
  listener.close();
});

test("Listener/Client: a 64 MiB message crosses a socket whole, each way, in linear time", {
  timeout: 60_000,
}, async () => {
  const { listener, server, client } = await pair();
  const big = patternedBytes(64 << 20);
  const t0 = performance.now();
  client.sendBytes(big);
  const bytes = await server.recvBytesAsync();
  server.send({ big });
  const back = (await client.recvAsync()) as { big: Uint8Array };
  const ms = performance.now() - t0;
  assert.ok(sameBytes(bytes, big), "sendBytes -> recvBytes");
  assert.ok(sameBytes(back.big, big), "send -> recv");
  // Joining each chunk read to the bytes before it took 2.4 s for 16 MiB one way (square growth).
  assert.ok(ms < 15_000, `64 MiB each way in ${Math.round(ms)} ms`);
  client.close();
  server.close();
  listener.close();
});

test("Listener/Client: a Unix socket by default, removed on close; address errors", async () => {
  const listener = new Listener({ authkey: new Uint8Array([1, 2, 3]) });
  const path = await listener.ready;
  assert.equal(typeof path, "string");
  const accepted = listener.accept();
  const client = await Client({ address: path, authkey: new Uint8Array([1, 2, 3]) });
  const server = await accepted;
  server.send("over unix");
  assert.equal(await client.recvAsync(), "over unix");
  client.close();
  server.close();
  listener.close();
  await assert.rejects(
    Client({ address: path }),
    /cannot connect to .*is a Listener running there/,
  );
  assert.throws(
    () => new Listener({ address: { host: "127.0.0.1", port: 70000 } }),
    /port in 0\.\.65535/,
  );
  assert.throws(() => new Listener({ address: 5 as never }), TypeError);
  assert.throws(
    () => new Listener({ authkey: 5 as never }),
    /authkey must be a string or a Uint8Array/,
  );
  await assert.rejects(listener.accept(), EOFError);
});

test("Listener/Client: a Unix socket path longer than 107 bytes is refused clearly", async () => {
  // Node 20 cut it short silently (a socket at another path, a stray file), Node 24 and Deno
  // failed with a bare EINVAL; CPython says "AF_UNIX path too long".
  const dir = join(tempDir(), "d".repeat(60));
  mkdirSync(dir);
  const at = (bytes: number) => join(dir, "s".repeat(bytes - dir.length - 1));
  const fits = new Listener({ address: at(107) });
  assert.equal(await fits.ready, at(107), "107 bytes: bound at that very path");
  assert.ok(existsSync(at(107)));
  fits.close();
  const long = at(108);
  const tooLong = new RegExp(
    `the Unix socket path "${long}" is 108 bytes, more than the 107 .*AF_UNIX path too long`,
  );
  assert.throws(() => new Listener({ address: long }), tooLong);
  await assert.rejects(Client({ address: long }), tooLong);
  assert.deepEqual(readdirSync(dir), [], "nothing left behind");
});

test("Listener: port 0 on an IP address tells its port at once (listener.address, no await)", async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    const listener = new Listener({ address: { host, port: 0 }, authkey: "k" });
    const at = listener.address as { host: string; port: number };
    assert.equal(at.host, host);
    assert.ok(at.port > 0, `port 0 on ${host} gives the port the OS picked, before any await`);
    assert.deepEqual(await listener.ready, at);
    const accepted = listener.accept();
    const client = await Client({ address: at, authkey: "k" });
    (await accepted).send(host);
    assert.equal(await client.recvAsync(), host);
    client.close();
    // A port in use: the constructor returns, `ready` and `accept()` say which address failed.
    const taken = new Listener({ address: at });
    await assert.rejects(taken.ready, new RegExp(`cannot listen on .*${at.port}`));
    await assert.rejects(taken.accept(), /cannot listen on/);
    // ... and so does its address, which said "still being bound" (a user's try).
    assert.throws(() => taken.address, /cannot listen on/);
    listener.close();
  }
  // A host name is looked up first: its port is known once `ready` settles.
  const named = new Listener({ address: { host: "localhost", port: 0 } });
  const namedAt = (await named.ready) as { host: string; port: number };
  assert.equal(namedAt.host, "localhost");
  assert.ok(namedAt.port > 0);
  assert.deepEqual(named.address, namedAt);
  named.close();
});

test("Listener: a program that asked for pending deprecation warnings gets none from it", async () => {
  const [cmd, argv] = scriptCommand("listener_quiet.ts");
  const r = await runCommand(cmd, argv, {
    env: { ...process.env, NODE_PENDING_DEPRECATION: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^listening on port chosen$/m);
  assert.doesNotMatch(r.stderr, /DEP0111|process\.binding/);
});

test("authkey: a wrong, missing or unexpected key fails on both sides with AuthenticationError", async () => {
  const listener = new Listener({ address: LOOPBACK, authkey: "right" });
  const address = await listener.ready;
  const refused = async (client: Promise<unknown>, pattern: RegExp) => {
    const accepted = listener.accept().then(() => null, (e: Error) => e);
    await assert.rejects(
      client,
      (e: Error) => e instanceof AuthenticationError && pattern.test(e.message),
    );
    assert.ok((await accepted) instanceof AuthenticationError);
  };
  await refused(Client({ address, authkey: "wrong" }), /refused this authkey/);
  await refused(Client({ address }), /requires an authkey/);
  // The listener goes on: a right key still connects.
  const ok = listener.accept();
  const good = await Client({ address, authkey: "right" });
  (await ok).send("welcome");
  assert.equal(await good.recvAsync(), "welcome");
  good.close();
  listener.close();

  const open = new Listener({ address: LOOPBACK });
  const openAt = await open.ready;
  const accepted = open.accept();
  await assert.rejects(Client({ address: openAt, authkey: "k" }), /takes no authkey/);
  await accepted.then((c) => c.close(), () => {});
  open.close();
});

test("authkey: a peer that is no Client is refused before any message is read", async () => {
  const listener = new Listener({ address: LOOPBACK, authkey: "k" });
  const { port } = (await listener.ready) as { port: number };
  const accepted = listener.accept();
  const raw = connect(port, "127.0.0.1");
  await new Promise((r) => raw.once("connect", r));
  // Something that looks like a message, where the answer to the challenge should be.
  raw.write(new Uint8Array([0, 0, 0, 2, 0, 3]));
  await assert.rejects(accepted, AuthenticationError);
  raw.destroy();
  listener.close();
});

test("Connection.send over a socket refuses shared objects; a socket connection stays in its process", async () => {
  const { listener, server, client } = await pair();
  assert.throws(
    () => client.send({ v: new Value("i", 1) }),
    /value\.v is a Value.*cannot cross a socket/,
  );
  assert.throws(() => client.send(() => 1), /is a function/);
  const ctx = getContext("process");
  const p = new ctx.Process({ target: exitAfter, args: [client as never] });
  await assert.rejects(p.start(), /cannot be sent to a child.*Client\(\)/);
  client.close();
  server.close();
  listener.close();
});

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`Listener/Client: a child connects to its parent's listener [${method}]`, async () => {
    await using listener = new Listener({ address: LOOPBACK, authkey: "family" });
    const address = await listener.ready;
    const p = new ctx.Process({ target: talk, args: [address, "family", 3] });
    p.start();
    const conn = await listener.accept();
    for (let i = 0; i < 3; i++) assert.deepEqual(await conn.recvAsync(), { i, from: "child" });
    conn.send("bye");
    assert.equal(await conn.recvAsync(), "bye");
    await assert.rejects(conn.recvAsync(), EOFError);
    await p.join();
    assert.equal(p.exitCode, 0);
  });

  test(`Listener/Client: a child killed mid-stream ends the stream, nothing hangs [${method}]`, async () => {
    await using listener = new Listener({ authkey: "k" });
    const address = await listener.ready;
    const p = new ctx.Process({ target: talkForever, args: [address, "k"] });
    p.start();
    const conn = await listener.accept();
    assert.equal(await conn.recvAsync(), 0);
    assert.equal(await conn.recvAsync(), 1);
    p.kill();
    await p.join();
    const t0 = performance.now();
    await assert.rejects(async () => {
      for (;;) await conn.recvAsync();
    }, EOFError);
    assert.ok(performance.now() - t0 < 5000);
  });

  test(`connectionWait: pipes, queues, sockets and processes; the ready ones, in order [${method}]`, async () => {
    const [a, b] = ctx.Pipe();
    const [c, d] = ctx.Pipe();
    const q = new ctx.Queue();
    const { listener, server, client } = await pair();
    const p = new ctx.Process({ target: exitAfter, args: [300] });
    await p.start();
    const all = [a, c, q, server, p];
    let t0 = performance.now();
    assert.deepEqual(await connectionWait(all, 100), [], "nothing ready: [] after the timeout");
    assert.ok(performance.now() - t0 >= 90);
    d.send(1);
    assert.deepEqual(await connectionWait(all, 0), [c]);
    c.recv();
    q.put("x");
    setTimeout(() => client.send("late"), 50);
    t0 = performance.now();
    let ready = await connectionWait(all, 5000);
    assert.ok(ready.includes(q));
    q.get();
    ready = await connectionWait([a, c, server, p], 5000);
    assert.deepEqual(ready, [server], "woken by the socket's message");
    assert.ok(performance.now() - t0 < 2000);
    await server.recvAsync();
    ready = await connectionWait([a, c, server, p]);
    assert.deepEqual(ready, [p], "woken by the process's exit");
    b.close();
    assert.deepEqual(await connectionWait([a, c], 5000), [a], "a closed peer counts as ready");
    await assert.rejects(connectionWait([{} as never]), /object 0 \(Object\) cannot be waited on/);
    const unstarted = new ctx.Process({ target: exitAfter, args: [1] });
    await assert.rejects(connectionWait([unstarted]), /has not started/);
    for (const end of [a, c, d]) end.close();
    client.close();
    server.close();
    listener.close();
  });
}

test("connectionWait: a plain Queue of the default context too", async () => {
  const q = new Queue<number>();
  setTimeout(() => q.put(1), 30);
  const [r] = Pipe();
  assert.deepEqual(await connectionWait([r, q], 3000), [q]);
  r.close();
});
