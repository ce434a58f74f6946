/**
 * The notebook's shared-memory cells, under both start methods: `Value('i', 400)` changed by a
 * depositing and a withdrawing child, without a lock (a race: the result is an integer within
 * what the interleavings allow) and with one (exactly 90400).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getContext } from "../mod.ts";
import { deposit, lockedDeposit, lockedWithdraw, withdraw } from "./fixtures/shared_targets.ts";
import { ALL_METHODS } from "./helpers.ts";

for (const method of ALL_METHODS) {
  const { Process, Value, Lock } = getContext(method);

  test(`notebook: unlocked shared balance stays within the possible range [${method}]`, async () => {
    const balance = new Value("i", 400);
    const depositProcess = new Process({ target: deposit, args: [1, 10000, balance] });
    const withdrawProcess = new Process({ target: withdraw, args: [1, 1000, balance] });
    depositProcess.start();
    withdrawProcess.start();
    await depositProcess.join();
    await withdrawProcess.join();
    assert.equal(depositProcess.exitCode, 0);
    assert.equal(withdrawProcess.exitCode, 0);
    const final = balance.value;
    assert.ok(Number.isInteger(final), `balance ${final} is not an integer`);
    // Every interleaving loses some updates at most: between all withdrawals alone and all
    // deposits alone.
    assert.ok(final >= 400 - 1000 && final <= 400 + 10000, `balance ${final} out of range`);
  });

  test(`notebook: locked shared balance ends at exactly 90400 [${method}]`, async () => {
    const balance = new Value("i", 400);
    const lock = new Lock();
    const depositProcess = new Process({ target: lockedDeposit, args: [1, 100000, balance, lock] });
    const withdrawProcess = new Process({
      target: lockedWithdraw,
      args: [1, 10000, balance, lock],
    });
    depositProcess.start();
    withdrawProcess.start();
    await depositProcess.join();
    await withdrawProcess.join();
    assert.equal(depositProcess.exitCode, 0);
    assert.equal(withdrawProcess.exitCode, 0);
    assert.equal(balance.value, 90400);
    assert.equal(lock.locked(), false);
  });
}
