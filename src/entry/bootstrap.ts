/**
 * What every child does: learn who it is and the parent's command line, find the target (which
 * imports its module, with `isMain()` false), say it runs -- or that the target is not there --,
 * call it, and exit with the code the contract gives.
 * @module
 */
import { decodeValue, hasHandles } from "../handles/encoding.ts";
import {
  type BootMessage,
  type NotFoundMessage,
  WARMED,
  type WarmMessage,
} from "../process/protocol.ts";
import { adoptCommandLine } from "../runtime/argv.ts";
import { adoptEnvChanges, enterDir } from "../runtime/host.ts";
import { importModule } from "../runtime/load.ts";
import { native } from "../runtime/native/mod.ts";
import type { ParentChannel } from "../runtime/parent_channel.ts";
import { declareInertGlobals } from "../runtime/test_globals.ts";
import { runChildExit, state, whileBootstrapping } from "../state/state.ts";
import { adoptThreadIdentity, onTerminationRequested } from "../sync/owner.ts";
import { findTarget, TargetNotFound } from "../targets/task.ts";

/**
 * Runs a child on `channel` once its boot message arrives. A spare of the `"forkserver"` method
 * gets a warm message first: it learns whose child it is and imports the main module while it
 * waits (a failure there is the target's to report, when it imports it again).
 */
export function bootstrap(channel: ParentChannel): void {
  let booted = false;
  let warmed: Promise<unknown> = Promise.resolve();
  channel.onMessage((message) => {
    const w = message as WarmMessage;
    if (w?.op === "warm" && !booted) {
      const s = state();
      s.parent = w.parent;
      s.startMethod = w.method;
      adoptCommandLine(w.argv);
      if (w.dir !== null) enterDir(w.dir);
      warmed = (w.main
        ? whileBootstrapping(w.main, () => importModule(w.main!))
        : Promise.resolve())
        .then(() => rehearse(channel, w.rehearsal))
        .catch(() => {}); // the target's import reports it; a rehearsal is no boot
      return;
    }
    const m = message as BootMessage;
    if (m?.op !== "boot" || booted) return;
    booted = true;
    // After a promise turn, not inside the message's dispatch: running there saved nothing
    // measurable (~0.5 ms on Bun either way).
    warmed.then(() => run(channel, m)).then(async (code) => {
      runChildExit();
      await channel.flush();
      channel.exit(code);
    });
  });
}

/**
 * What a spare does with its boot before it comes, short of running it: look for the target
 * (one no function matches) and decode the arguments, then answer -- code that runs once per
 * child, and so would otherwise be compiled while `start()` waits (~1 ms on Bun). It also makes
 * ready what shared objects among the arguments need (their kinds, and the native layer they
 * attach through: on Node, koffi and libc's functions, ~3 ms the first time), which CPython's
 * forkserver would have preloaded too.
 */
async function rehearse(channel: ParentChannel, boot: BootMessage): Promise<void> {
  // A child's steps from its boot on, to its answer (dropped): that no function is found.
  if (boot.target.url) await runTarget({ send: () => {} }, boot, true);
  decodeValue(boot.args);
  await import("../process/shared_kinds.ts");
  try {
    native();
  } catch {
    // none here (Deno without --allow-ffi, say): a shared object's revival says why
  }
  channel.send({ op: WARMED });
}

async function run(channel: ParentChannel, boot: BootMessage): Promise<number> {
  adopt(channel, boot);
  return await runTarget(channel, boot);
}

/** The child takes on who it is from its boot. */
function adopt(channel: ParentChannel, boot: BootMessage): void {
  const s = state();
  s.self = boot.self;
  s.parent = boot.parent;
  s.identity = boot.identity;
  s.startMethod = boot.method;
  s.channel = channel;
  s.shmTracker = boot.shmTracker;
  adoptCommandLine(boot.argv);
  if (boot.env) adoptEnvChanges(boot.env); // a spare: what changed since it was spawned
  // A process child, started where its parent's loader flags resolve (popen_node.ts), works in
  // its parent's directory; a thread's is its process's, the parent's own.
  if (boot.method !== "thread" && boot.dir !== null) enterDir(boot.dir);
  if (boot.thread) {
    adoptThreadIdentity(boot.thread);
    // Killed or terminated while blocked in the library: end here (the parent reports the code).
    onTerminationRequested(() => channel.exit(1));
  }
}

/**
 * Finds the target, says it runs (or why not), and runs it -- unless a `rehearsal`; resolves with
 * the exit code.
 */
async function runTarget(
  channel: Pick<ParentChannel, "send" | "yieldToParent">,
  boot: BootMessage,
  rehearsal = false,
): Promise<number> {
  let fn: (...args: unknown[]) => unknown;
  declareInertGlobals(boot.testGlobals);
  try {
    const what = `Cannot start process '${boot.self.name}'`;
    fn = await whileBootstrapping(boot.target.url, () => findTarget(boot.target, what));
  } catch (error) {
    if (!(error instanceof TargetNotFound)) {
      // The module failed while it was imported: the target's own fault, reported as one.
      channel.send({ op: "ready" });
      console.error(`Process ${boot.self.name}:\n${(error as Error)?.stack ?? String(error)}`);
      return 1;
    }
    const message: NotFoundMessage = {
      op: "notFound",
      error: { name: "TypeError", message: error.message },
    };
    channel.send(message);
    return 1;
  }
  channel.send({ op: "ready" });
  if (rehearsal) return 0;
  channel.yieldToParent?.(); // it waits for "ready"
  try {
    if (hasHandles(boot.args)) await import("../process/shared_kinds.ts");
    const args = decodeValue(boot.args) as unknown[];
    await fn(...args);
    return 0;
  } catch (error) {
    console.error(
      `Process ${boot.self.name}:\n${(error as Error)?.stack ?? String(error)}`,
    );
    return 1;
  }
}
