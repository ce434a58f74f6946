/** Functions the cluster spec runs on `multiproc worker` processes. */
import process from "node:process";
import { exit, sleep, task } from "../../mod.ts";

export const double = task(import.meta, (x: number) => x * 2);

/** The notebook's `something`: sleeps, then says who woke. */
export const something = task(import.meta, async (id: number, ms: number) => {
  await sleep(ms);
  return `${id}--Woke Up`;
});

/** Returns its argument as it arrived (values round-trip through the cluster). */
export const echo = task(import.meta, (value: unknown) => value);

/** An error with its own name and a cause, as a user's would have. */
export class ValueError extends Error {
  override name = "ValueError";
}

export const fail = task(import.meta, (x: number) => {
  throw new ValueError(`bad value ${x}`, { cause: new RangeError("out of range") });
});

/** Ends the child running it (a crash, as far as the worker can tell). */
export const crash = task(import.meta, () => {
  exit(3);
});

/** Never returns: a busy loop only a kill ends. */
export const spin = task(import.meta, () => {
  for (;;) { /* busy */ }
});

/** Sleeps `ms`, then returns the pid of the child that ran it. */
export const napThenPid = task(import.meta, async (ms: number) => {
  await sleep(ms);
  return process.pid;
});

/** The pid of the child that ran it, at once (a quick function). */
export const pidOf = task(import.meta, () => process.pid);

/** Not exported: a function a child cannot find (the contract's bad input). */
const hidden = (x: number) => x;
/** Hands the unexported function out, so that a test can submit it. */
export const hiddenRef = { hidden };

/** Doubles, but fails on 3 (an error in the middle of a map). */
export const failAt3 = task(import.meta, (x: number) => {
  if (x === 3) throw new ValueError(`bad value ${x}`);
  return 2 * x;
});

/** `n` zero bytes. */
export const zeros = task(import.meta, (n: number) => new Uint8Array(n));

/** A result no codec can send: a symbol. */
export const symbol = task(import.meta, (..._args: unknown[]) => Symbol("not data"));

/** A result MessagePack would change on the way (its function dropped): refused in the child. */
export const withFunction = task(import.meta, () => ({ cb: () => 1 }));
