/**
 * A program built into one executable (`bun build --compile`): the library is bundled into the
 * program's main module, inside the executable, and no entry script lies beside it to start a
 * child from. A child is the executable started again -- a process, or a Web Worker on the main
 * module -- with `FROZEN_CHILD` in its environment, naming its kind: the library, evaluated as the
 * main module is, becomes the child (src/entry/frozen.ts). CPython's `freeze_support()`, done at
 * import.
 * @module
 */
import { runtime } from "./detect.ts";
import { bun } from "./globals.ts";
import { pathToFileUrl } from "./host.ts";

/** The environment variable that tells a started executable it is a child, and of which kind. */
export const FROZEN_CHILD = "MULTIPROC_FROZEN_CHILD";

/** The kinds of child a single-file executable starts: an OS process or a Web Worker. */
export type FrozenKind = "process" | "worker";

/** Where Bun keeps an executable's modules: `/$bunfs/root/` (`B:/~BUN/root/` on Windows). */
const BUN_EXECUTABLE = /^file:\/\/\/(?:\$bunfs|[A-Za-z]:\/~BUN)\//;

/**
 * URL of the executable's main module when this program runs as a single-file executable, else
 * null. (`deno compile` is not recognised: its runtime could not be fetched here to test with.)
 */
export function standaloneMain(): string | null {
  if (executableMain === undefined) {
    const bunExecutable = runtime === "bun" && BUN_EXECUTABLE.test(import.meta.url);
    executableMain = bunExecutable ? pathToFileUrl(bun().main).href : null;
  }
  return executableMain;
}
/** `standaloneMain()`'s answer, once worked out (asked at every launch). */
let executableMain: string | null | undefined;

/** The environment of a child of `kind` started from the executable: this one's, marked. */
export function frozenChildEnv(kind: FrozenKind): Record<string, string | undefined> {
  return { ...globalThis.process.env, [FROZEN_CHILD]: kind };
}

/**
 * In a single-file executable: the kind of child it was started as, or null for the program
 * itself; read once, at the library's evaluation, and taken out of the environment, so that a
 * program the child starts in turn (the executable again, as a program) is no child.
 */
export function takeFrozenKind(): FrozenKind | null {
  const env = globalThis.process.env;
  const kind = env[FROZEN_CHILD];
  delete env[FROZEN_CHILD];
  return kind === "process" || kind === "worker" ? kind : null;
}
