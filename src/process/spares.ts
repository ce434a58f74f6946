/**
 * The `"forkserver"` start method's spares: OS-process children booted ahead -- runtime up,
 * library loaded, the parent's main module imported with `isMain()` false -- that wait for a boot
 * message. `Process.start()` takes one and hands it its target, and a new spare boots in the
 * background. CPython's forkserver forks a server that forks each child; here the spare itself
 * is the child. Spares keep nothing alive (unref'd until taken), end with the program, and end
 * by themselves if it is killed (every process child watches its parent).
 * @module
 */
import { trackerRef } from "../memory/tracker.ts";
import { commandLine } from "../runtime/argv.ts";
import { currentDir, type EnvChanges, envChanges, environment } from "../runtime/host.ts";
import { onProcessExit } from "../runtime/os.ts";
import { launch, type Popen } from "../runtime/popen.ts";
import { testGlobalsInUse } from "../runtime/test_globals.ts";
import { state } from "../state/state.ts";
import { entryModules } from "../targets/evaluating.ts";
import { WARMED, type WarmMessage } from "./protocol.ts";

/** How many spares are kept booted. */
export const SPARES = 2;

/** A spare: its child, and where its messages go once it is taken. */
interface Spare {
  popen: Promise<Popen>;
  onMessage: (message: unknown) => void;
  /** This process's environment when the spare was spawned with it (`environment()`). */
  env: Record<string, string> | null;
}

const waiting: Spare[] = [];
const all = new Set<Promise<Popen>>();
let exiting = false;
onProcessExit(() => {
  exiting = true;
  for (const p of all) p.then((popen) => popen.kill(), () => {});
});

/**
 * This program's main module, as a spare imports it ahead: the module whose `isMain(import.meta)`
 * was true (every program that starts children has that guard). A program without it (a test
 * runner's file, say) is not imported ahead: its children import their target's module only.
 */
function mainModule(): string | null {
  return entryModules()[0] ?? null;
}

function boot(): Spare {
  const spare: Spare = {
    popen: undefined as unknown as Promise<Popen>,
    onMessage: () => {},
    env: environment(),
  };
  const parent = state().self;
  const argv = commandLine();
  const dir = currentDir();
  const main = mainModule();
  const warm: WarmMessage = {
    op: "warm",
    parent,
    method: "forkserver",
    argv,
    dir,
    main,
    rehearsal: {
      op: "boot",
      self: { name: "spare", pid: 0, ident: 0, daemon: false },
      parent,
      identity: [0],
      method: "forkserver",
      // No function has this name: the search is rehearsed, and fails, as it is meant to.
      target: { url: main ?? "", name: "", source: "" },
      args: [],
      argv,
      dir,
      thread: null,
      shmTracker: { ref: null, cell: null },
      testGlobals: testGlobalsInUse(),
    },
  };
  // In a promise, so that a launch that throws (a spawn refused) is this spare's rejection.
  spare.popen = new Promise<Popen>((resolve) =>
    resolve(launch("forkserver", {
      onMessage: (m) => (m as { op?: string })?.op !== WARMED && spare.onMessage(m),
      daemon: true,
    }, () => warm))
  ).then((popen) => {
    popen.unref(); // a spare keeps nothing alive
    popen.exited.then(() => {
      all.delete(spare.popen);
      const i = waiting.indexOf(spare);
      if (i >= 0) waiting.splice(i, 1); // died while waiting: not handed out
    });
    return popen;
  });
  spare.popen.catch(() => {});
  all.add(spare.popen);
  return spare;
}

/** Boots spares up to `SPARES` (the forkserver context does it when it is first made). */
export function fillSpares(): void {
  if (state().bootstrapping.length > 0) return; // its start is refused: no spare for it
  trackerRef("forkserver"); // the segment registry (and its sweeper) made now, not at a first start
  while (!exiting && waiting.length < SPARES) waiting.push(boot());
}

/**
 * A child of the `"forkserver"` method: a booted spare (or a new one if none waits), its messages
 * from now on going to `onMessage`, and how this process's environment changed since it was
 * spawned (for its boot message). The caller refills the spares (`fillSpares`) once the child
 * runs its target.
 */
export async function takeSpare(
  onMessage: (message: unknown) => void,
): Promise<{ popen: Popen; env: EnvChanges | null }> {
  const spare = waiting.shift() ?? boot();
  spare.onMessage = onMessage;
  const popen = await spare.popen;
  return { popen, env: envChanges(spare.env, environment()) };
}
