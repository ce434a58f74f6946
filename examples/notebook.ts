/**
 * The notebook "Multiprocessing in Python", cell by cell, with multiproc. Run it with
 * `npm start` (every runtime) or e.g. `deno run -A examples/notebook.ts [thread|process]`.
 * `NOTEBOOK_SCALE=0.1` scales the notebook's sleeps down.
 */
import process from "node:process";
import {
  asCompleted,
  currentProcess,
  getContext,
  isMain,
  type Lock,
  sleep,
  type StartMethod,
  type Value,
} from "../mod.ts";

const scale = Number(process.env.NOTEBOOK_SCALE ?? 1);
const seconds = (s: number) => s * 1000 * scale;

// ── Cell 1: one process
export async function something(id: number) {
  console.log(`${id}--Going to Sleep`);
  await sleep(seconds(1));
  console.log(`${id}--Woke Up`);
}

// ── Cell 2: ten processes (the notebook redefines `something`; a module exports one name once)
export async function somethingWithPid(id: number) {
  console.log(` ${id}--Going to Sleep its PID is: ${currentProcess().pid}`);
  await sleep(seconds(10));
  console.log(` ${id}--Woke Up`);
}

// ── Cell 3: synchronization — separate memory
export let balance = 400;

export function deposit(amount: number, times: number) {
  for (let i = 0; i < times; i++) balance += amount;
}

export function withdraw(amount: number, times: number) {
  for (let i = 0; i < times; i++) balance -= amount;
}

// ── Cell 4: shared memory, not synchronized
export function sharedDeposit(amount: number, times: number, balance: Value<"i">) {
  for (let i = 0; i < times; i++) balance.value += amount;
}

export function sharedWithdraw(amount: number, times: number, balance: Value<"i">) {
  for (let i = 0; i < times; i++) balance.value -= amount;
}

// ── Cell 5: shared memory, synchronized using Lock
export function lockedDeposit(amount: number, times: number, balance: Value<"i">, lock: Lock) {
  for (let i = 0; i < times; i++) {
    lock.acquire();
    balance.value += amount;
    lock.release();
  }
}

export function lockedWithdraw(amount: number, times: number, balance: Value<"i">, lock: Lock) {
  for (let i = 0; i < times; i++) {
    lock.acquire();
    balance.value -= amount;
    lock.release();
  }
}

// ── Cells 6 and 7: ProcessPoolExecutor (the notebook's third `something`, which returns)
export async function somethingReturns(id: number, sleepTime: number) {
  console.log(`${id}--Going to Sleep`);
  await sleep(seconds(sleepTime));
  return `${id}--Woke Up`;
}

const took = (t0: number) => ((performance.now() - t0) / 1000).toFixed(4);

if (isMain(import.meta)) {
  const method = (process.argv[2] ?? undefined) as StartMethod | undefined;
  const { Process, Value, Lock, ProcessPoolExecutor } = getContext(method);

  {
    const startTime = performance.now();
    const p1 = new Process({ target: something, args: [0] });
    p1.start();
    await p1.join(); // join with main process
    console.log(`Main process took ${took(startTime)} seconds`);
  }
  console.log();
  {
    const startTime = performance.now();
    const processes = Array.from(
      { length: 10 },
      (_, i) => new Process({ target: somethingWithPid, args: [i] }),
    );
    for (const p of processes) p.start();
    // join with main process
    for (const p of processes) await p.join();
    console.log(`Main process took ${took(startTime)} seconds`);
  }
  console.log();
  {
    const depositProcess = new Process({ target: deposit, args: [400, 2000] });
    const withdrawProcess = new Process({ target: withdraw, args: [400, 200] });
    depositProcess.start();
    withdrawProcess.start();
    await depositProcess.join();
    await withdrawProcess.join();
    // Each child changed its own copy of `balance`: the parent's is untouched.
    console.log(` Final Balance is: ${balance}`);
  }
  console.log();
  {
    const balance = new Value("i", 400);
    const depositProcess = new Process({ target: sharedDeposit, args: [1, 10000, balance] });
    const withdrawProcess = new Process({ target: sharedWithdraw, args: [1, 1000, balance] });
    depositProcess.start();
    withdrawProcess.start();
    await depositProcess.join();
    await withdrawProcess.join();
    console.log(` Final Balance is: ${balance.value}`); // a race: often not 9400
  }
  console.log();
  {
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
    console.log(` Final Balance is: ${balance.value}`);
  }
  console.log();
  {
    console.log("Main Process Starting");
    const startTime = performance.now();
    // bound: the number of workers running at a time is the number of cores
    {
      await using executor = new ProcessPoolExecutor();
      const tasks = Array.from(
        { length: 10 },
        (_, i) => executor.submit(somethingReturns, i, 10 - i),
      );
      for await (const task of asCompleted(tasks)) { // printed in the order of completion
        console.log(await task.result());
      }
    }
    console.log(`Main process took ${took(startTime)} seconds`);
  }
  console.log();
  {
    console.log("Main Process Starting");
    const startTime = performance.now();
    const ids = Array.from({ length: 10 }, (_, i) => i);
    const sleepTime = ids.map((i) => i / 10);
    {
      await using executor = new ProcessPoolExecutor();
      for await (const result of executor.map(somethingReturns, ids, sleepTime)) {
        console.log(result); // printed in the order of the inputs
      }
    }
    console.log(`Main process took ${took(startTime)} seconds`);
  }
}
