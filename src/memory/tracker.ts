/**
 * Which named shared-memory segments are alive, so that the main process unlinks them when it
 * exits, whoever made them and however that process ended (CPython's resource tracker). The
 * registry is a block of native shared memory in the main OS process; children write the names
 * they create there. It is made on first need: when a segment is first named, or when a first
 * process child is started, which is given the registry itself (a program with neither never
 * loads the native layer for it). Until then, the main process and its thread children share a
 * small cell (a SharedArrayBuffer) through which whichever needs it first makes it and the others
 * find it.
 * Layout: entries of 256 bytes: [state int32 (0 free, 1 writing, 2 live), length int32, name].
 * @module
 */
import { readGlobal, writeGlobal } from "../core/process_wide.ts";
import type { StartMethod } from "../core/start_method.ts";
import { pid } from "../runtime/host.ts";
import { native } from "../runtime/native/mod.ts";
import { onProcessExit, runExitCallbacksOnSignals } from "../runtime/os.ts";
import { spawnWatcher } from "../runtime/watcher.ts";
import { state } from "../state/state.ts";
import { allocate, attach, type Block, type BlockRef } from "./arena.ts";

const ENTRY = 256, ENTRIES = 256, NAME_MAX = ENTRY - 8, SIZE = ENTRY * ENTRIES;
const FREE = 0, WRITING = 1, LIVE = 2;
// The cell: [state, fd, slab size, offset] of the registry in this OS process.
const NONE = 0, MAKING = 1, MADE = 2, FAILED = 3;

/** How a child finds the registry: the registry itself, or the cell of its OS process. */
export interface TrackerRef {
  ref: BlockRef | null;
  cell: SharedArrayBuffer | null;
}

interface Tracker {
  block: Block;
  i32: Int32Array;
  bytes: Uint8Array;
}

/** This process's registry, once opened (null: it cannot be), and the cell to find it. */
const opened = () => readGlobal<Tracker | null>("shmTracker");
const setOpened = (t: Tracker | null) => writeGlobal("shmTracker", t);
const theCell = () => readGlobal<Int32Array>("shmTrackerCell");
const setCell = (c: Int32Array) => writeGlobal("shmTrackerCell", c);
/** What this process's parent handed down about the registry (state.ts keeps it opaque). */
const inheritedRef = () => state().shmTracker as TrackerRef | null;

/** The cell of this OS process: the main process makes it; a thread child got it at boot. */
function cell(): Int32Array | null {
  const known = theCell();
  if (known) return known;
  const s = state();
  if (s.parent === null) {
    onProcessExit(() => sweep()); // whoever makes the registry, the main process sweeps it
    return setCell(new Int32Array(new SharedArrayBuffer(16)));
  }
  const shared = inheritedRef()?.cell;
  return shared ? setCell(new Int32Array(shared)) : null;
}

/**
 * When the sweeper of a registry made now starts: `"now"`, before a segment is registered;
 * `"soon"`, once the code running now is done (a child's boot sent first: it waits for it).
 */
type SweeperStart = "now" | "soon";

/** The registry through the cell: made here if nobody has, else attached. */
function viaCell(c: Int32Array, start: SweeperStart): Block | null {
  for (;;) {
    const was = Atomics.compareExchange(c, 0, NONE, MAKING);
    if (was === NONE) {
      try {
        const block = allocate("process", SIZE, 4096);
        const ref = block.ref as Extract<BlockRef, { kind: "memfd" }>;
        c[1] = ref.fd;
        c[2] = ref.slab;
        c[3] = ref.offset;
        Atomics.store(c, 0, MADE);
        if (start === "now") startSweeper(ref);
        else queueMicrotask(() => startSweeper(ref));
        return block;
      } catch {
        Atomics.store(c, 0, FAILED); // no native layer: named segments cannot be made either
        return null;
      } finally {
        Atomics.notify(c, 0);
      }
    }
    if (was === MADE) {
      return attach({ kind: "memfd", pid, fd: c[1], slab: c[2], offset: c[3], size: SIZE });
    }
    if (was === FAILED) return null;
    Atomics.wait(c, 0, MAKING, 100); // another thread of this process is making it
  }
}

function open(start: SweeperStart = "now"): Tracker | null {
  const known = opened();
  if (known !== undefined) return known;
  let block: Block | null = null;
  try {
    const ref = inheritedRef()?.ref;
    if (ref) block = attach(ref);
    else {
      const c = cell();
      block = c && viaCell(c, start);
    }
  } catch {
    block = null;
  }
  return setOpened(
    block && {
      block,
      i32: new Int32Array(block.buffer, block.offset, SIZE / 4),
      bytes: new Uint8Array(block.buffer, block.offset, SIZE),
    },
  );
}

/**
 * How a child of start method `method` finds the registry. A process child needs the registry
 * itself (made now if need be); a thread child of the main process shares its cell.
 */
export function trackerRef(method: StartMethod): TrackerRef {
  const inherited = inheritedRef()?.ref;
  if (inherited) return { ref: inherited, cell: null };
  const open_ = opened();
  if (open_) return { ref: open_.block.ref, cell: null };
  if (method !== "thread") return { ref: open("soon")?.block.ref ?? null, cell: null };
  return { ref: null, cell: (cell()?.buffer as SharedArrayBuffer | undefined) ?? null };
}

/** `track()`'s error when as many segments as the registry holds are alive already. */
export class TrackerFull extends RangeError {
  /** How many the registry holds. */
  static readonly limit: number = ENTRIES;
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
  throw new TrackerFull(
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

/**
 * The part of the registry's sweep that survives the main process: a helper (runtime/watcher.ts)
 * holds the registry's file (its fd 3) from its start, which keeps the registry's memory past the
 * main process, and once that has ended (SIGKILL included: no exit callback runs then) unlinks
 * every segment still registered. It reads the registry's bytes with `od`, one entry per line:
 * state 2 (live; little-endian), the name's length, the name. After a normal end the main process
 * has swept already: none is live. The end of its stdin comes as the main process ends, a little
 * before it is gone (its files are closed first), or when a thread child that made the registry
 * ends: the helper then looks for the main process's end every 50 ms for 2 s, then every second.
 * Arguments: the registry's offset and size in its file, the main process's pid.
 */
const SWEEPER = `while read -r _; do :; done
alive() {
  [ -r "/proc/$1/status" ] || return 1
  while read -r key value _; do
    if [ "$key" = State: ]; then [ "$value" != Z ]; return; fi
  done <"/proc/$1/status"
  return 1
}
n=0
while alive "$3"; do
  if [ "$n" -lt 40 ]; then n=$((n + 1)); sleep 0.05; else sleep 1; fi
done
od -An -v -tx1 -w${ENTRY} -j "$1" -N "$2" <&3 | awk '
  BEGIN { for (i = 0; i < 256; i++) hex[sprintf("%02x", i)] = i }
  $1 == "0${LIVE}" && $2 == "00" && $3 == "00" && $4 == "00" {
    n = hex[$5] + 256 * hex[$6]; name = ""
    for (i = 9; i < 9 + n && i <= NF; i++) name = name sprintf("%c", hex[$i])
    sub(/^\\/+/, "", name)
    if (name != "" && index(name, "/") == 0) print name
  }' | while IFS= read -r name; do rm -f -- "/dev/shm/$name"; done
`;

/** Starts the sweeper of the registry at `ref`, which the main process has just made. */
function startSweeper(ref: Extract<BlockRef, { kind: "memfd" }>): void {
  spawnWatcher(SWEEPER, [`${ref.offset}`, `${SIZE}`, `${pid}`], ref.fd);
}

/** Unlinks every segment still registered (the main process, at exit). */
function sweep(): void {
  const c = theCell();
  const made = c !== undefined && Atomics.load(c, 0) === MADE;
  const t = opened() ?? (made ? open() : null);
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
