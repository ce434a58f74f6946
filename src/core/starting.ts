/**
 * The processes this thread is starting: from `start()` until the child runs. A child starts on
 * the event loop (its target is found, its runtime spawned), so a call that blocks the thread
 * (`Queue.get()`, `Lock.acquire()`, `Connection.recv()`, `Event.waitSync()`) made right after an
 * un-awaited `start()` holds that start back: a child that would answer it never runs, and the
 * call waits out its timeout, or forever. CPython's `start()` has spawned the child when it
 * returns; here a blocking call in that state says so once per process (`warnIfStarting`).
 * @module
 */
import { readGlobal, writeGlobal } from "./process_wide.ts";

interface Starting {
  /** The processes starting (by their start's promise), with their names. */
  names: Map<Promise<unknown>, string>;
  /** Those already warned about. */
  warned: WeakSet<Promise<unknown>>;
}

function starting(): Starting {
  return readGlobal<Starting>("startingProcesses.v1")
    ?? writeGlobal<Starting>("startingProcesses.v1", { names: new Map(), warned: new WeakSet() });
}

/** Notes that process `name` is starting until `started` settles. */
export function noteStarting(name: string, started: Promise<unknown>): void {
  const s = starting();
  s.names.set(started, name);
  const done = () => s.names.delete(started);
  started.then(done, done);
}

/** Before a call blocks the thread: warns (once per process) if a process is still starting. */
export function warnIfStarting(): void {
  const s = readGlobal<Starting>("startingProcesses.v1");
  if (!s || s.names.size === 0) return;
  const fresh: string[] = [];
  for (const [started, name] of s.names) {
    if (s.warned.has(started)) continue;
    s.warned.add(started);
    fresh.push(`'${name}'`);
  }
  if (fresh.length === 0) return;
  console.warn(
    `multiproc: a call blocks this thread while process ${fresh.join(", ")} ${
      fresh.length > 1 ? "are" : "is"
    } still starting: a child starts on the event loop, which the call blocks, so it runs only `
      + `once the call returns. Await start() before a blocking call (await p.start()), or use `
      + `the async form (getAsync(), recvAsync(), acquireAsync(), wait()).`,
  );
}
