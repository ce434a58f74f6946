/**
 * A proxy's fast lane to its manager (src/proxy/lane.ts): one call at a time through shared
 * memory, the socket carrying what does not fit, what the caller stopped waiting for, and every
 * call made while another is under way, with calls still starting in the order they were made.
 * The manager killed while a call waits fails the call, never hangs it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { activeChildren, EOFError, Manager, SyncManager } from "../mod.ts";
import { ASLEEP, AWAKE_NOW, CallerLane, ManagerLane, NOT_POSTED } from "../src/proxy/lane.ts";
import { pid } from "../src/runtime/host.ts";
import { METHODS } from "./helpers.ts";

const LONG = { timeout: 60_000 };
const bytes = (...b: number[]) => new Uint8Array(b);

/** Writes `b` into a lane's area, as the codec does: its length, or -1 if it does not fit. */
const put = (b: Uint8Array) => (area: Uint8Array) => {
  if (b.length > area.length) return -1;
  area.set(b);
  return b.length;
};
/** The answer a caller reads off its lane, or null if it is to come through the socket. */
function read(caller: CallerLane): Uint8Array | null {
  let got: Uint8Array | null = null;
  return caller.answer((b) => (got = b.slice())) ? got : null;
}
/** The request a manager takes, copied. */
const take = (manager: ManagerLane) => manager.take()?.slice() ?? null;

test("lane: a request taken, run and answered through shared memory", () => {
  const caller = CallerLane.open(pid);
  assert.ok(caller, "this process can make shared memory (the native layer loads here)");
  const manager = ManagerLane.attach(caller.ref);
  assert.ok(manager, "the manager maps the caller's lane");
  try {
    assert.equal(caller.idle, true);
    assert.equal(manager.take(), null, "nothing waits yet");
    assert.equal(caller.post(7, put(bytes(1, 2, 3))), ASLEEP);
    assert.equal(caller.idle, false);
    assert.equal(manager.pending, true);
    assert.equal(manager.callId, 7);
    assert.deepEqual(take(manager), bytes(1, 2, 3));
    assert.equal(manager.take(), null, "a request is taken once");
    manager.awake = true;
    assert.equal(manager.answer(put(bytes(9, 8))), true);
    assert.deepEqual(read(caller), bytes(9, 8));
    assert.equal(caller.idle, true, "the caller frees the lane when it read the answer");
    assert.equal(caller.post(8, put(bytes(4))), AWAKE_NOW);
  } finally {
    manager.close();
    caller.close();
  }
});

test("lane: a caller that stops waiting gets its answer through the socket", () => {
  const caller = CallerLane.open(pid)!;
  const manager = ManagerLane.attach(caller.ref)!;
  try {
    // Parked before the manager took it: the manager still runs it, and answers elsewhere.
    caller.post(1, put(bytes(1)));
    assert.equal(read(caller), null, "nobody answered: the caller parks the call");
    assert.equal(caller.idle, false, "the lane stays taken until the manager answered");
    assert.deepEqual(take(manager), bytes(1), "a parked request is still run");
    assert.equal(manager.answer(put(bytes(2))), false, "the answer goes through the socket");
    assert.equal(caller.idle, true, "and the lane is free again");
    // Parked while running.
    caller.post(2, put(bytes(3)));
    assert.deepEqual(take(manager), bytes(3));
    let t0 = performance.now();
    assert.equal(read(caller), null);
    assert.ok(performance.now() - t0 >= 5, "a running call is waited for longer");
    assert.equal(manager.answer(put(bytes(4))), false);
    assert.equal(caller.idle, true);
    // A method that waits: the manager says so as it starts, and the caller does not spin.
    caller.post(5, put(bytes(6)));
    manager.take();
    manager.defer();
    t0 = performance.now();
    assert.equal(read(caller), null);
    assert.ok(performance.now() - t0 < 5, "a deferred call is not spun for");
    assert.equal(manager.answer(put(bytes(7))), false);
    assert.equal(caller.idle, true);
    // An answer that does not fit goes through the socket, and the caller stops spinning.
    caller.post(3, put(bytes(5)));
    manager.take();
    assert.equal(manager.answer(put(new Uint8Array(64 * 1024))), false);
    assert.equal(read(caller), null, "the caller sees at once that it comes elsewhere");
    // A request that does not fit is not posted.
    assert.equal(caller.post(4, put(new Uint8Array(64 * 1024))), NOT_POSTED);
    assert.equal(caller.idle, true);
    // A closed lane is never touched again (its memory is unmapped).
    manager.close();
    caller.post(6, put(bytes(8)));
    assert.equal(manager.take(), null);
    assert.equal(manager.answer(put(bytes(9))), false);
  } finally {
    manager.close();
    caller.close();
  }
});

test("lane: a manager maps only the lane whose nonce it was told", () => {
  const caller = CallerLane.open(pid)!;
  try {
    const wrong = { ...caller.ref, nonce: caller.ref.nonce.map((n) => n ^ 1) };
    assert.equal(ManagerLane.attach(wrong), null, "same pid and fd, other memory: refused");
    assert.equal(ManagerLane.attach({ ...caller.ref, fd: 1_000_000 }), null, "no such fd");
    assert.equal(
      ManagerLane.attach({ ...caller.ref, nonce: "x" } as never),
      null,
      "a malformed reference is refused, not thrown",
    );
  } finally {
    caller.close();
  }
});

for (const method of METHODS) {
  test(
    `manager lane [${method}]: order, large values, waits and a killed manager`,
    LONG,
    async () => {
      const m = new SyncManager({ context: method });
      await m.start();
      const d = await m.dict();
      const q = await m.Queue<number>();
      try {
        // Calls start in the order they were made, whichever way each goes.
        for (let i = 0; i < 200; i++) {
          const set = d.set("k", i);
          const got = d.get("k");
          await set;
          assert.equal(await got, i);
        }
        // Values larger than the lane go through the socket, both ways.
        const big = "x".repeat(100_000);
        await d.set("big", big);
        assert.equal(await d.get("big"), big);
        // A call that waits long (the caller stops spinning) is answered through the socket.
        const later = q.get({ timeout: 10_000 });
        setTimeout(() => q.put(42), 50);
        assert.equal(await later, 42);
        for (let i = 0; i < 100; i++) assert.equal(await d.get("k"), 199, "the lane works on");
        // The manager killed while a call waits: the call fails, it does not hang.
        const waiting = q.get({ timeout: 30_000 });
        const [proc] = activeChildren().filter((p) => /^SyncManager-\d+$/.test(p.name));
        assert.ok(proc?.isAlive(), "the manager is a child process of this program");
        await new Promise((r) => setTimeout(r, 50));
        proc.kill();
        const t0 = Date.now();
        await assert.rejects(waiting, EOFError);
        assert.ok(Date.now() - t0 < 10_000, "failed when the manager died, not at the timeout");
        await assert.rejects(d.get("k"), EOFError);
      } finally {
        await m.shutdown().catch(() => {});
      }
    },
  );
}

test("manager lane: a Manager() used right after start works before its lane opens", async () => {
  await using manager = await Manager();
  const d = await manager.dict({ a: 1 });
  assert.deepEqual(await Promise.all([d.get("a"), d.get("a"), d.get("a")]), [1, 1, 1]);
});
