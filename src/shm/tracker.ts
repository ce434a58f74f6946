/**
 * Which named shared-memory segments are alive, so that the main process unlinks them when it
 * exits, whoever made them and however that process ended (CPython's resource tracker). The
 * registry is a block of native shared memory made by the main process; every child learns it
 * at boot and writes the names it creates there.
 * Layout: entries of 256 bytes: [state int32 (0 free, 1 writing, 2 live), length int32, name].
 * @module
 */
import { native } from "../runtime/native/mod.ts";
import { onProcessExit, runExitCallbacksOnSignals } from "../runtime/os.ts";
import { state } from "../state.ts";
import { allocate, attach, type Block, type BlockRef } from "./arena.ts";

const ENTRY = 256, ENTRIES = 256, NAME_MAX = ENTRY - 8;
const FREE = 0, WRITING = 1, LIVE = 2;
const KEY = Symbol.for("multiproc.shmTracker");

interface Tracker {
  block: Block;
  i32: Int32Array;
  bytes: Uint8Array;
}

const g = globalThis as unknown as { [KEY]?: Tracker | null };

function open(): Tracker | null {
  if (g[KEY] !== undefined) return g[KEY];
  const s = state();
  let block: Block | null = null;
  try {
    if (s.parent === null) {
      block = allocate("process", ENTRY * ENTRIES, 4096);
      onProcessExit(() => sweep());
    } else if (s.shmTracker) {
      block = attach(s.shmTracker);
    }
  } catch {
    block = null; // no native layer: named segments cannot be made either
  }
  return g[KEY] = block && {
    block,
    i32: new Int32Array(block.buffer, block.offset, (ENTRY * ENTRIES) / 4),
    bytes: new Uint8Array(block.buffer, block.offset, ENTRY * ENTRIES),
  };
}

/** The registry's handle for a child's boot message (made on first use in the main process). */
export function trackerRef(): BlockRef | null {
  return open()?.block.ref ?? null;
}

/**
 * Records that segment `name` exists and must be unlinked when the main process exits. With
 * `signals`, in the main process, a SIGINT/SIGTERM/SIGHUP that ends it unlinks too.
 */
export function track(name: string, signals = false): void {
  const t = open();
  if (!t) return;
  if (signals && state().parent === null) runExitCallbacksOnSignals();
  const bytes = new TextEncoder().encode(name);
  if (bytes.length > NAME_MAX) {
    throw new RangeError(`SharedMemory: name longer than ${NAME_MAX} bytes`);
  }
  for (let e = 0; e < ENTRIES; e++) {
    const w = (e * ENTRY) / 4;
    if (Atomics.compareExchange(t.i32, w, FREE, WRITING) !== FREE) continue;
    t.bytes.set(bytes, e * ENTRY + 8);
    Atomics.store(t.i32, w + 1, bytes.length);
    Atomics.store(t.i32, w, LIVE);
    return;
  }
  throw new RangeError(
    `SharedMemory: more than ${ENTRIES} tracked segments are alive; unlink() some, or pass `
      + `track: false for segments that should outlive this program.`,
  );
}

function nameAt(t: Tracker, e: number): string {
  const len = Atomics.load(t.i32, (e * ENTRY) / 4 + 1);
  return new TextDecoder().decode(t.bytes.slice(e * ENTRY + 8, e * ENTRY + 8 + len));
}

/** Forgets segment `name` (it was unlinked). */
export function untrack(name: string): void {
  const t = open();
  if (!t) return;
  for (let e = 0; e < ENTRIES; e++) {
    const w = (e * ENTRY) / 4;
    if (Atomics.load(t.i32, w) === LIVE && nameAt(t, e) === name) {
      if (Atomics.compareExchange(t.i32, w, LIVE, FREE) === LIVE) return;
    }
  }
}

/** Unlinks every segment still registered (the main process, at exit). */
function sweep(): void {
  const t = g[KEY];
  if (!t) return;
  for (let e = 0; e < ENTRIES; e++) {
    const w = (e * ENTRY) / 4;
    if (Atomics.compareExchange(t.i32, w, LIVE, FREE) !== LIVE) continue;
    try {
      native().unlinkNamed(nameAt(t, e));
    } catch {
      // already unlinked by someone else
    }
  }
}
