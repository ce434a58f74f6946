/**
 * Who holds a lock, and whether it still lives. An owner is a token of 31 bits: a process is its
 * pid (bits 0-21; Linux pids stay below 2^22); a thread child is its process's pid plus a slot
 * (bits 22-30) in that process's thread table, a small `SharedArrayBuffer` every thread of the
 * process shares. A process is alive while `/proc` says so; a thread child while its slot is
 * set: 1 while it runs, 2 once its parent has killed or terminated it (it may still run: Deno
 * cannot stop a worker that is busy, denoland/deno#35657, so its locks stay its own), 0 once it
 * has ended. A slot no longer 1 tells the child itself that termination was asked for, which its
 * blocking calls notice.
 *
 * Limits: a dead owner is seen only as what it is now -- a pid reused by a new process within
 * the few milliseconds between checks would pass for the old owner; a thread slot is reused
 * only after the 511 others.
 * @module
 */
import { processWide, readGlobal, writeGlobal } from "../core/process_wide.ts";
import { pid } from "../runtime/host.ts";
import { pidAlive } from "../runtime/liveness.ts";

/**
 * How often a waiter looks whether a lock's holder still lives, and a thread child whether its
 * parent ended it: the longest any wait sleeps between those looks.
 */
export const LIVENESS_CHECK_MS = 100;

const PID_BITS = 22;
const PID_MASK = (1 << PID_BITS) - 1;
const SLOTS = 512;
/** A thread slot's states (see the module comment). */
const ENDED = 0, RUNNING = 1, STOPPING = 2;

/** A thread child's place in its process's thread table, handed to it at boot. */
export interface ThreadIdentity {
  readonly table: SharedArrayBuffer;
  readonly slot: number;
}

interface Self {
  table: Int32Array | null;
  slot: number;
  token: number;
}

let cached: Self | undefined;

function self(): Self {
  return cached ??= processWide<Self>("owner", () => ({
    table: null,
    slot: 0,
    token: pid & PID_MASK,
  }));
}

function table(): Int32Array {
  const s = self();
  // The main thread of a process makes the table; a thread child gets its parent's at boot.
  return s.table ??= new Int32Array(new SharedArrayBuffer(4 * SLOTS));
}

/** This thread's owner token (never 0). */
export function myToken(): number {
  return self().token;
}

/** The pid of the process of owner `token`. */
export function ownerPid(token: number): number {
  return token & PID_MASK;
}

/** Whether the owner `token` still lives. */
export function tokenAlive(token: number): boolean {
  const owner = token & PID_MASK;
  const slot = (token >>> PID_BITS) & (SLOTS - 1);
  if (owner !== (pid & PID_MASK)) return pidAlive(owner);
  return slot === 0 || Atomics.load(table(), slot) !== ENDED;
}

/** A parent: a slot in this process's table for a new thread child, marked alive. */
export function newThreadIdentity(): ThreadIdentity {
  const t = table();
  const start = Atomics.add(t, 0, 1); // word 0 (the main thread's slot) counts allocations
  for (let k = 0; k < SLOTS - 1; k++) {
    const slot = 1 + (start + k) % (SLOTS - 1);
    if (Atomics.compareExchange(t, slot, ENDED, RUNNING) === ENDED) {
      return { table: t.buffer as SharedArrayBuffer, slot };
    }
  }
  throw new RangeError(
    `multiproc: more than ${SLOTS - 1} thread children alive in one process; use the "process" `
      + `start method for more.`,
  );
}

/** A parent: marks a thread child ended (it will run no more); its locks can be taken. */
export function endThread(id: ThreadIdentity): void {
  Atomics.store(new Int32Array(id.table), id.slot, ENDED);
}

/**
 * A parent: tells a running thread child it was killed or terminated; it counts as alive (its
 * locks are its own) until it has ended (`endThread`).
 */
export function stopThread(id: ThreadIdentity): void {
  Atomics.compareExchange(new Int32Array(id.table), id.slot, RUNNING, STOPPING);
}

/** A thread child at boot: takes the identity its parent gave it. */
export function adoptThreadIdentity(id: ThreadIdentity): void {
  const s = self();
  s.table = new Int32Array(id.table);
  s.slot = id.slot;
  s.token = (pid & PID_MASK) | (id.slot << PID_BITS);
}

/** In a thread child: whether its parent has killed or terminated it. */
export function terminationRequested(): boolean {
  const s = self();
  return s.slot !== 0 && s.table !== null && Atomics.load(s.table, s.slot) !== RUNNING;
}

/** Whether this is a thread child (whose waits must wake now and then to see the above). */
export function isThreadChild(): boolean {
  return self().slot !== 0;
}

/** A thread child's bootstrap: how to end this thread when its parent asked for it. */
export function onTerminationRequested(end: () => never): void {
  writeGlobal("endThread", end);
}

/**
 * Ends this thread child if its parent has killed or terminated it (called by every blocking
 * wait of the library, so a child blocked in one ends even where the runtime cannot stop it).
 */
export function endIfTerminated(): void {
  if (!terminationRequested()) return;
  readGlobal<() => never>("endThread")?.();
}
