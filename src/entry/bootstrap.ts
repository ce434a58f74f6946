/**
 * What every child does: learn who it is, say it runs, import the target's module (with
 * `isMain()` false), call the export, and exit with the code the contract gives.
 * @module
 */
import { decodeValue, hasHandles } from "../handles.ts";
import type { BootMessage } from "../protocol.ts";
import { importModule } from "../runtime/load.ts";
import type { ParentChannel } from "../runtime/parent_channel.ts";
import { runChildExit, state } from "../state.ts";

/** Runs a child on `channel` once its boot message arrives. */
export function bootstrap(channel: ParentChannel): void {
  let booted = false;
  channel.onMessage((message) => {
    const m = message as BootMessage;
    if (m?.op !== "boot" || booted) return;
    booted = true;
    run(channel, m).then(async (code) => {
      runChildExit();
      await channel.flush();
      channel.exit(code);
    });
  });
}

async function run(channel: ParentChannel, boot: BootMessage): Promise<number> {
  const s = state();
  s.self = boot.self;
  s.parent = boot.parent;
  s.identity = boot.identity;
  s.startMethod = boot.method;
  s.channel = channel;
  s.shmTracker = boot.shmTracker;
  channel.send({ op: "ready" });
  try {
    const ns = await importModule(boot.target.url);
    const fn = ns[boot.target.exportName];
    if (typeof fn !== "function") {
      throw new TypeError(
        `'${boot.target.exportName}' of '${boot.target.url}' is not a function in the child.`,
      );
    }
    if (hasHandles(boot.args)) await import("../shared_kinds.ts");
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
