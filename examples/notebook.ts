/**
 * The notebook "Multiprocessing in Python", cell by cell, with multiproc. Run it with
 * `npm start` (every runtime) or e.g. `deno run -A examples/notebook.ts [thread|process]`.
 * `NOTEBOOK_SCALE=0.1` scales the notebook's sleeps down.
 */
import process from "node:process";
import { currentProcess, getContext, isMain, sleep, type StartMethod } from "../mod.ts";

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

const took = (t0: number) => ((performance.now() - t0) / 1000).toFixed(4);

if (isMain(import.meta)) {
  const method = (process.argv[2] ?? undefined) as StartMethod | undefined;
  const { Process } = getContext(method);

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
}
