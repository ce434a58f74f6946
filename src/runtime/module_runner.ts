/**
 * Programs whose modules a test runner loads itself. Vitest runs a test's imports in its own
 * module runner (Vite's transform, evaluated apart from the runtime's module loader), Jest in its
 * own module registry (a `vm` context); a child imports the same files with the runtime's
 * loader, so the functions a test holds are never the exports a child finds, and a test file
 * imported again runs its suites outside the runner. Errors about finding a target then say how
 * to let the runtime load those modules itself. And an `import()` of the program's main module
 * there (the runner's command) would run that command again inside the runner. Bun's runner
 * refuses tests declared outside it, and its globals (`describe`, `expect`) are not globals a
 * parent can see and hand on (test_globals.ts): a child importing a test file fails, and the
 * error says to move the target. (Node's own runner: node_test.ts.)
 * @module
 */
import { cleanModuleUrl, envVar } from "./host.ts";

/**
 * The test runner that loads this program's modules itself, if one does: told by the variable
 * each sets in the processes that run tests (`VITEST`, `JEST_WORKER_ID`).
 */
export function moduleRunner(): "vitest" | "jest" | undefined {
  if (envVar("VITEST") !== undefined) return "vitest";
  if (envVar("JEST_WORKER_ID") !== undefined) return "jest";
  return undefined;
}

/** The globals through which runners declare tests, suites and hooks. */
export const TEST_GLOBALS: readonly string[] = (
  "describe it test suite context specify before after beforeEach afterEach beforeAll afterAll "
  + "setup teardown suiteSetup suiteTeardown xdescribe xit xcontext xspecify fdescribe fit expect"
).split(" ");

/** The test global that `error` says is not defined, if it is such a ReferenceError. */
function undefinedTestGlobal(error: unknown): string | undefined {
  if (!(error instanceof ReferenceError)) return undefined;
  const m = /^(?:(\w+) is not defined|Can't find variable: (\w+))$/.exec(error.message);
  const name = m?.[1] ?? m?.[2];
  return name !== undefined && TEST_GLOBALS.includes(name) ? name : undefined;
}

/** The remedy for a target defined in a test file that a child cannot import. */
const MOVE_TARGETS = "targets in a module of their own, not in a test file, and import them into "
  + "the test.";

/**
 * Bun's errors for `test()`, `beforeAll()` and the like called outside `bun test` or in a worker
 * there: a child importing a test file.
 */
const BUN_TEST_REFUSAL = /Cannot use \S+ (?:outside of the test runner|in a Worker)/;

/**
 * A sentence to add to an error about finding a child's code when the program runs under vitest
 * or Jest (told by the variable each sets), or when `error` says a child imported a test file
 * outside its runner (Bun's refusal of a test declared outside `bun test`, or a runner's global
 * not defined), else "".
 * @example
 * ```ts
 * import { moduleRunnerAdvice } from "./module_runner.ts";
 * const message = `target 'f' is not exported from 'file:///app/main.ts'.${moduleRunnerAdvice()}`;
 * console.assert(message.startsWith("target"));
 * ```
 */
export function moduleRunnerAdvice(error?: unknown): string {
  const runner = moduleRunner();
  if (runner === undefined && BUN_TEST_REFUSAL.test(String((error as Error | null)?.message))) {
    return " Under `bun test`, a child imports the module that defines its target outside the "
      + `test runner, and Bun refuses to declare tests there: define ${MOVE_TARGETS}`;
  }
  const global = runner === undefined ? undefinedTestGlobal(error) : undefined;
  if (global !== undefined) {
    return ` The module uses \`${global}\`, which its test runner declares but does not make a `
      + `global of (a child imports the module outside the runner): define ${MOVE_TARGETS}`;
  }
  if (runner === "jest") {
    return " Under Jest, the modules a test imports run in Jest's own module registry, which a "
      + "child does not have: their functions are not the ones a child imports. Define targets "
      + "in modules of their own, not in a test file, exported or marked with task(), and name "
      + "such a module in the `module` option (its URL or path) where a test makes the call; run "
      + "Jest on ES modules (node --experimental-vm-modules), with no transform of those modules.";
  }
  if (runner !== "vitest") return "";
  return " Under vitest, the modules a test imports run in vitest's own module runner, which a "
    + "child does not have: their functions are not the ones a child imports. List the modules "
    + "that define targets in vitest's `test.server.deps.external` (for example "
    + "`external: [/\\/src\\//]` in vitest.config.ts) so that the runtime loads them itself "
    + "(before Node 22.18, run vitest with NODE_OPTIONS='--import tsx' for TypeScript), and "
    + "define targets there, not in a test file.";
}

/** A module path as test runners name test files: `*.test.*`, `*.spec.*`, in `__tests__/`. */
export const TEST_FILE: RegExp = /(?:[._-](?:test|spec)\.[cm]?[jt]sx?$|\/__tests__\/)/;

/**
 * A sentence to add to a child's failure to import `url`, when `url` is named as a test file is
 * (a runner such as AVA fails outside its command, on its own internal assertion), else "".
 * @example
 * ```ts
 * import { testFileAdvice } from "./module_runner.ts";
 * console.assert(testFileAdvice("file:///app/test/a.test.js") !== "");
 * console.assert(testFileAdvice("file:///app/src/a.js") === "");
 * ```
 */
export function testFileAdvice(url: string): string {
  if (!TEST_FILE.test(cleanModuleUrl(url))) return "";
  return " The module is named as a test file is: a child imports it outside its test runner, "
    + `which may refuse to run there (AVA, bun test) or lack its globals. Define ${MOVE_TARGETS}`;
}
