/**
 * The program's command line, handed from a parent to its children: CPython's spawn gives the
 * child the parent's `sys.argv` before it imports the main module, and a module that reads its
 * arguments at top level (`Deno.args[0]`, `process.argv[2]`) must see the same in a child.
 * @module
 */
import { runtime } from "./detect.ts";
import { deno } from "./globals.ts";

/** The command line as this runtime gives it: `process.argv` (also `Bun.argv`), or `Deno.args`. */
export function commandLine(): string[] {
  return runtime === "deno" ? [...deno().args] : [...globalThis.process.argv];
}

/** Makes this child see `argv`, its parent's `commandLine()` (same runtime). */
export function adoptCommandLine(argv: readonly string[]): void {
  if (runtime === "deno") {
    Object.defineProperty(deno(), "args", { value: [...argv], configurable: true });
  } else {
    // Bun.argv is the same array as process.argv.
    globalThis.process.argv.splice(0, globalThis.process.argv.length, ...argv);
  }
}
