/**
 * Message passing under both start methods: Queue, SimpleQueue, JoinableQueue and Pipe between
 * the parent and children, nothing lost, timeouts honoured.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Empty, EOFError, Full, getContext } from "../mod.ts";
import {
  consume,
  echo,
  produce,
  putAll,
  sendBytes,
  sendThenExit,
  takeAndReport,
} from "./fixtures/mp_targets.ts";
import { METHODS } from "./helpers.ts";

async function timed<T>(f: () => T | Promise<T>): Promise<number> {
  const t0 = performance.now();
  try {
    await f();
  } catch {
    // the caller asserts what was thrown
  }
  return performance.now() - t0;
}

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`Queue: FIFO from a child that exits right after putting, 16 MiB too [${method}]`, async () => {
    const q = new ctx.Queue<unknown>();
    const big = new Uint8Array(16 << 20).map((_, i) => i % 253);
    const items = [1, "two", { three: [3] }, big, null];
    const p = new ctx.Process({ target: putAll, args: [q, items] });
    await p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(q.qsize(), 5, "everything put is there after the child has gone");
    assert.equal(q.get(), 1);
    assert.equal(await q.getAsync(), "two");
    assert.deepEqual(q.get(), { three: [3] });
    assert.deepEqual(q.get(), big);
    assert.equal(q.get(), null);
    assert.equal(q.empty(), true);
  });

  test(`Queue: 4 producers x 10000 items, 2 consumers: every item exactly once [${method}]`, async () => {
    const q = new ctx.Queue<[number, number] | null>();
    const out = new ctx.Queue<[number, number][]>();
    const producers = [0, 1, 2, 3].map((id) =>
      new ctx.Process({ target: produce, args: [q, id, 10_000] })
    );
    const consumers = [0, 1].map(() => new ctx.Process({ target: consume, args: [q, out] }));
    [...producers, ...consumers].forEach((p) => p.start());
    for (const p of producers) await p.join();
    await q.putAsync(null);
    await q.putAsync(null);
    const taken = [
      await out.getAsync({ timeout: 60_000 }),
      await out.getAsync({ timeout: 60_000 }),
    ];
    for (const p of consumers) await p.join();
    const all = taken.flat();
    assert.equal(all.length, 40_000);
    assert.equal(new Set(all.map(([id, i]) => id * 100_000 + i)).size, 40_000, "duplicates");
    // Each consumer saw each producer's items in the order they were put.
    for (const mine of taken) {
      for (const id of [0, 1, 2, 3]) {
        const seq = mine.filter(([p]) => p === id).map(([, i]) => i);
        assert.deepEqual(seq, seq.toSorted((a, b) => a - b));
      }
    }
  });

  test(`Queue: timeouts honoured; Empty, Full; qsize, empty, full; close [${method}]`, async () => {
    const q = new ctx.Queue<number>(2);
    let ms = await timed(() => q.get({ timeout: 200 }));
    assert.throws(() => q.get({ timeout: 10 }), Empty);
    assert.ok(ms >= 195 && ms < 2000, `get({ timeout: 200 }) took ${ms} ms`);
    ms = await timed(() => q.getAsync({ timeout: 200 }));
    await assert.rejects(q.getAsync({ timeout: 10 }), Empty);
    assert.ok(ms >= 195 && ms < 2000, `getAsync({ timeout: 200 }) took ${ms} ms`);
    assert.throws(() => q.get({ block: false }), Empty);
    assert.throws(() => q.get({ block: false, timeout: 5 }), /needs block: true/);
    q.put(1);
    await q.putAsync(2);
    assert.equal(q.qsize(), 2);
    assert.equal(q.full(), true);
    assert.throws(() => q.put(3, { block: false }), Full);
    ms = await timed(() => q.put(3, { timeout: 150 }));
    assert.ok(ms >= 145, `put({ timeout: 150 }) on a full queue took ${ms} ms`);
    await assert.rejects(q.putAsync(3, { timeout: 50 }), Full);
    assert.equal(q.get(), 1);
    q.putNowait(3);
    assert.deepEqual([q.getNowait(), q.get()], [2, 3]);
    assert.equal(q.empty(), true);
    assert.throws(() => new ctx.Queue(-1), /maxsize must be an integer >= 0/);
    q.put(1);
    q.put(2);
    assert.throws(
      () => q.put(3, { block: false }),
      /^Full: Queue\.put\(\): the queue is full \(maxsize 2\)$/,
    );
    assert.deepEqual([q.get(), q.get()], [1, 2]);
    // A queue without maxsize holds 1 MiB of items: when that is full, Full says so.
    const unbounded = new ctx.Queue<Uint8Array>();
    const item = new Uint8Array(60 << 10);
    assert.throws(
      () => {
        for (let i = 0; i < 40; i++) unbounded.put(item, { block: false });
      },
      (e: Error) =>
        e instanceof Full
        && /^Queue\.put\(\): the queue's shared buffer is full: 1 MiB of items wait to be taken .*\(await manager\.Queue\(\)\)/
          .test(e.message),
    );
    q.close();
    assert.throws(() => q.put(1), /closed/);
  });

  test(`Queue: an item that cannot be sent is refused at put, saying why [${method}]`, async () => {
    const q = new ctx.Queue<unknown>();
    for (const bad of [() => 1, { deep: [{ f: () => 1 }] }, Symbol("s")]) {
      assert.throws(() => q.put(bad), /cannot be sent to a child.*Pass data that structured/s);
    }
    // Seen as data by the encoding: refused by the serializer, or sent as its data (Bun).
    const withMethod = Object.assign([1, 2], { f: () => 1 });
    try {
      q.put(withMethod);
      assert.deepEqual(q.get(), [1, 2]);
    } catch (error) {
      assert.match(String(error), /TypeError: .*cannot be sent to a child/);
    }
    q.put({ plain: [1, "two", { three: 3n }] });
    assert.deepEqual(q.get(), { plain: [1, "two", { three: 3n }] });
    // A cycle, around a shared object too, is sent as structured clone keeps it. (A "thread"
    // object in a queue item: not on Node, whose serializer refuses its SharedArrayBuffer.)
    const cyclic: Record<string, unknown> = { lock: method === "process" ? new ctx.Lock() : null };
    cyclic.self = cyclic;
    q.put(cyclic);
    const got = q.get() as Record<string, unknown>;
    assert.equal(got.self, got);
    if (method === "process") {
      assert.equal(typeof (got.lock as { acquire?: unknown }).acquire, "function");
    }
    q.close();
  });

  test(`JoinableQueue: join waits for a child's taskDone calls; too many throw [${method}]`, async () => {
    const q = new ctx.JoinableQueue<number>();
    for (let i = 0; i < 3; i++) q.put(i);
    assert.equal(await q.join(50), false, "nothing reported done yet");
    const p = new ctx.Process({ target: takeAndReport, args: [q, 3, 50] });
    p.start();
    assert.equal(await q.join(10_000), true);
    await p.join();
    assert.throws(() => q.taskDone(), /more times than there were items/);
  });

  test(`SimpleQueue: put and get through a child [${method}]`, async () => {
    const q = new ctx.SimpleQueue<string>();
    const p = new ctx.Process({ target: putAll, args: [q, ["a", "b"]] });
    await p.start();
    await p.join();
    assert.deepEqual([q.get(), q.get()], ["a", "b"]);
    assert.equal(q.empty(), true);
  });

  test(`Pipe: duplex echo with a child, nested handles; EOF when the child closes [${method}]`, async () => {
    const [mine, theirs] = ctx.Pipe<number | string>();
    const p = new ctx.Process({ target: echo, args: [theirs] });
    await p.start();
    theirs.close(); // as in CPython: the parent closes its copy of the child's end
    for (let i = 1; i <= 3; i++) mine.send(i);
    assert.deepEqual([mine.recv(), await mine.recvAsync(), mine.recv()], [2, 4, 6]);
    mine.send("text");
    assert.equal(mine.recv(), "text");
    assert.equal(mine.poll(0), false);
    const [scratch] = ctx.Pipe();
    const waited = await timed(() => scratch.poll(150));
    assert.ok(waited >= 145, `poll(150) returned after ${waited} ms`);
    // Closing our end: the child's recv gets EOFError, it reports and closes its end.
    mine.close();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.throws(() => mine.recv(), /closed/);
  });

  test(`Pipe: the child's end closes when it exits; EOFError after the last message [${method}]`, async () => {
    const [mine, theirs] = ctx.Pipe<number>(false);
    assert.equal(mine.writable, false);
    assert.equal(theirs.readable, false);
    assert.throws(() => mine.send(1), /only receives/);
    assert.throws(() => theirs.recv(), /only sends/);
    assert.throws(
      () => (mine.recv as (o: unknown) => number)({ timeout: 500 }),
      /^TypeError: Connection\.recv\(\) takes no arguments, got 1: to wait at most some time, poll first/,
    );
    await assert.rejects(
      (mine.recvAsync as (o: unknown) => Promise<number>)({ timeout: 500 }),
      /Connection\.recvAsync\(\) takes no arguments/,
    );
    const p = new ctx.Process({ target: sendThenExit, args: [theirs, 3] });
    await p.start();
    theirs.close();
    await p.join();
    assert.deepEqual([mine.recv(), mine.recv(), mine.recv()], [0, 1, 2]);
    assert.equal(mine.poll(), true, "poll is true at end of stream: recv would not block");
    assert.throws(() => mine.recv(), EOFError);
    await assert.rejects(mine.recvAsync(), EOFError);
  });

  test(`Pipe: sendBytes/recvBytes, maxLength [${method}]`, async () => {
    const [a, b] = ctx.Pipe();
    const p = new ctx.Process({ target: sendBytes, args: [b, 100_000] });
    await p.start();
    await p.join();
    const bytes = a.recvBytes();
    assert.equal(bytes.length, 100_000);
    assert.equal(bytes[300], 300 % 251);
    b.sendBytes(new Uint8Array([9, 8, 7, 6]), 1, 2);
    assert.deepEqual([...a.recvBytes()], [8, 7]);
    b.sendBytes(new Uint8Array(10));
    assert.throws(() => a.recvBytes(5), /more than maxLength 5/);
    // Larger than the ring's in-line limit: out of line in the "process" context, either way.
    const big = new ctx.Process({ target: sendBytes, args: [b, 3 << 20] });
    await big.start();
    const large = a.recvBytes();
    assert.equal(large.length, 3 << 20);
    assert.equal(large[(3 << 20) - 1], ((3 << 20) - 1) % 251);
    await big.join();
    b.sendBytes(large.subarray(0, 300_000));
    const asObject = a.recv() as Uint8Array;
    assert.ok(asObject instanceof Uint8Array && asObject.length === 300_000);
    assert.equal(asObject[299_999], 299_999 % 251);
  });

  test(`Queue, Pipe: a large item with no segment to travel in fails saying so [${method}]`, () => {
    const q = new ctx.Queue();
    const [a, b] = ctx.Pipe();
    const held: InstanceType<typeof ctx.SharedMemory>[] = [];
    try {
      // As many named segments alive as the registry holds: large messages nobody took yet do
      // the same. It said "the item cannot be sent to a child: SharedMemory: ... pass track:
      // false ... Pass data that structured clone accepts".
      for (;;) {
        try {
          held.push(new ctx.SharedMemory({ create: true, size: 1 }));
        } catch (error) {
          assert.match(String(error), /more than \d+ tracked segments are alive/);
          break;
        }
      }
      const big = new Uint8Array(300_000);
      const said =
        /^RangeError: Queue\.put\(\): the item \(\d+ bytes, over 262144 travel in a shared-memory segment of their own\) could not be sent: \d+ named segments are alive already .*Let the other side take some first/;
      assert.throws(() => q.put(big), said);
      assert.throws(() => b.send(big), /^RangeError: Connection\.send\(\): the object \(\d+ bytes/);
      assert.throws(() => b.sendBytes(big), /^RangeError: Connection\.sendBytes\(\): the message/);
      held.pop()!.unlink();
      q.put(big); // its entry was given back: one place free is enough
      assert.equal((q.get() as Uint8Array).length, 300_000);
    } finally {
      for (const shm of held) shm.unlink();
      q.close();
      a.close();
      b.close();
    }
  });
}
