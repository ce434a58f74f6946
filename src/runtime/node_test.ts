/**
 * A Node program's own tests (`node:test`) in a module its children import. A child imports the
 * module that defines its target, and a test file is such a module when its tests call targets
 * defined in it: importing it would run its tests again in the child (whose pools start children
 * of their own, which import the file again), and under `node --test` their results, written to
 * the stdout the child shares, would be counted with the file's. So the children of a program that
 * has loaded `node:test` start with its tests skipped and reported nowhere: every test's name is
 * left out by a pattern no name matches, the reporter reads and drops the events, and the
 * runner's `NODE_TEST_CONTEXT` (which makes a file's process report to it on stdout) is not
 * passed on. What still runs there is what importing the file runs outside its tests: its
 * top-level code, `describe` bodies (which only declare tests) and `before`/`after` hooks.
 *
 * Node only: `moduleLoadList` names the internal modules this process has loaded.
 * @module
 */

/** The internal module that `node:test`'s `test()` and `describe()` are made by. */
const HARNESS = "NativeModule internal/test_runner/harness";

/** The variable `node --test` sets in each test file's process, which the file reports through. */
const TEST_CONTEXT_VARIABLE = "NODE_TEST_CONTEXT";

/** A test reporter that reads every event and writes nothing (a reporter must drain them). */
const SILENT_REPORTER =
  "data:text/javascript,export default async function*(events){for await(const e of events);}";

/** Node's test flags, which give this process's tests and reporters (`--test`, `--test-*`). */
export const TEST_FLAG: RegExp = /^--(?:test|experimental-test)/;

/** Whether this process has loaded `node:test` (the program has tests). */
export function programHasTests(): boolean {
  const loaded = (globalThis.process as { moduleLoadList?: string[] } | undefined)?.moduleLoadList;
  return loaded?.includes(HARNESS) ?? false;
}

/**
 * The flags that leave a child's `node:test` tests skipped and unreported, when this process has
 * tests (else none). Names are left out by a pattern no name matches; where Node has
 * `--test-skip-pattern` (22.1+) every name is skipped as well, which also overrules a name
 * pattern in `NODE_OPTIONS` (name patterns add up: any match runs a test).
 * @example
 * ```ts
 * import { quietTestFlags } from "./node_test.ts";
 * const execArgv = ["--enable-source-maps", ...quietTestFlags()];
 * console.assert(execArgv[0] === "--enable-source-maps");
 * ```
 */
export function quietTestFlags(): string[] {
  if (!programHasTests()) return [];
  const skip = globalThis.process.allowedNodeEnvironmentFlags?.has("--test-skip-pattern");
  return [
    "--test-name-pattern=(?!)",
    ...(skip ? ["--test-skip-pattern=^"] : []),
    `--test-reporter=${SILENT_REPORTER}`,
  ];
}

/** `env` without the test runner's variable for a test file's process (`NODE_TEST_CONTEXT`). */
export function withoutTestContext<T extends Record<string, string | undefined>>(env: T): T {
  if (!(TEST_CONTEXT_VARIABLE in env)) return env;
  const copy = { ...env };
  delete copy[TEST_CONTEXT_VARIABLE];
  return copy;
}
