/**
 * Programs whose modules a test runner loads itself. Vitest runs a test's imports in its own
 * module runner (Vite's transform, evaluated apart from the runtime's module loader); a child
 * imports the same files with the runtime's loader, so the functions a test holds are never the
 * exports a child finds, and a test file imported again runs its suites outside the runner.
 * Errors about finding a target then say how to let the runtime load those modules itself.
 * @module
 */
import { envVar } from "./host.ts";

/**
 * A sentence to add to an error about finding a child's code when the program runs under vitest
 * (which sets `VITEST` in its workers), else "".
 * @example
 * ```ts
 * import { moduleRunnerAdvice } from "./module_runner.ts";
 * const message = `target 'f' is not exported from 'file:///app/main.ts'.${moduleRunnerAdvice()}`;
 * console.assert(message.startsWith("target"));
 * ```
 */
export function moduleRunnerAdvice(): string {
  if (envVar("VITEST") === undefined) return "";
  return " Under vitest, the modules a test imports run in vitest's own module runner, which a "
    + "child does not have: their functions are not the ones a child imports. List the modules "
    + "that define targets in vitest's `test.server.deps.external` (for example "
    + "`external: [/\\/src\\//]` in vitest.config.ts) so that the runtime loads them itself "
    + "(before Node 22.18, run vitest with NODE_OPTIONS='--import tsx' for TypeScript), and "
    + "define targets there, not in a test file.";
}
