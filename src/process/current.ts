/**
 * What a program asks about itself: `currentProcess()`, `parentProcess()`, `activeChildren()`,
 * `cpuCount()`, `isMain()`, and `exit()`.
 * @module
 */

import { cleanModuleUrl, exitNow } from "../runtime/host.ts";
import { hostCpuCount, isEntryUrl } from "../runtime/os.ts";
import { type ProcessInfo, runChildExit, state } from "../state/state.ts";
import { noteEntryEvaluating } from "../targets/evaluating.ts";
import { type CommonJsModule, moduleOf } from "../targets/task.ts";
import { activeProcesses, type Process } from "./process.ts";

export type { ProcessInfo };

/**
 * This process: `name` is `"MainProcess"` in the main process, the child's name in a child.
 * @example
 * ```ts
 * import { currentProcess } from "multiproc";
 * console.log(currentProcess().name, currentProcess().pid);
 * ```
 */
export function currentProcess(): ProcessInfo {
  return state().self;
}

/**
 * The process that started this one, or `null` in the main process.
 * @example
 * ```ts
 * import { parentProcess } from "multiproc";
 * console.log(parentProcess()?.pid ?? "no parent: this is the main process");
 * ```
 */
export function parentProcess(): ProcessInfo | null {
  return state().parent;
}

/**
 * The children started from here that have not yet exited.
 * @example
 * ```ts
 * import { activeChildren } from "multiproc";
 * console.log(activeChildren().length);
 * ```
 */
export function activeChildren(): Process[] {
  return activeProcesses();
}

/**
 * The number of logical CPUs.
 * @example
 * ```ts
 * import { cpuCount } from "multiproc";
 * console.log(cpuCount());
 * ```
 */
export function cpuCount(): number {
  return hostCpuCount();
}

/**
 * True only in the entry module of the main process: the guard around a program's main code,
 * so that a child importing the module does not run it again (Python's
 * `if __name__ == "__main__"`). In CommonJS, pass the module's `module`: `isMain(module)`.
 * @example
 * ```ts
 * import { isMain } from "multiproc";
 * if (isMain(import.meta)) console.log("main program");
 * ```
 */
export function isMain(importMeta: ImportMeta | CommonJsModule): boolean {
  const { url, main: importMetaMain } = moduleOf(importMeta, "isMain(import.meta)");
  // A child, or a single-file executable's child importing its main module before its boot.
  if (state().parent !== null || state().bootstrapping.length > 0) return false;
  const main = isEntryUrl(url, importMetaMain);
  if (main) noteEntryEvaluating(cleanModuleUrl(url));
  return main;
}

/**
 * Ends this process with `code` (a child's `exitCode` becomes `code`). In a thread child only
 * that thread ends.
 * @example
 * ```ts
 * import { exit } from "multiproc";
 * export function worker(ok: boolean) {
 *   if (!ok) exit(3);
 * }
 * ```
 */
export function exit(code = 0): never {
  const channel = state().channel;
  if (channel) runChildExit();
  return channel ? channel.exit(code) : exitNow(code);
}
