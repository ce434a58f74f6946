/**
 * A Node program's own tests (`node:test`) in a module its children import. A child imports the
 * module that defines its target, and a test file is such a module when its tests call targets
 * defined in it: importing it would run its tests again in the child (whose pools start children
 * of their own, which import the file again), and under `node --test` their results, written to
 * the stdout the child shares, would be counted with the file's. So the children of a test file's
 * process start with tests skipped and reported nowhere: every test's name is left out by a
 * pattern no name matches, the reporter reads and drops the events, and the runner's
 * `NODE_TEST_CONTEXT` (which makes a file's process report to it on stdout) is not passed on.
 * What still runs there is what importing the file runs outside its tests: its top-level code,
 * `describe` bodies (which only declare tests) and `before`/`after` hooks.
 *
 * A program that only runs test files through `node:test`'s `run()` (a tool that shards them
 * over a pool) is no test file's, and its children get nothing: their own `run()` passes its
 * name patterns on to the files it runs, which would skip every test.
 *
 * Node only. A test file's process has `node:test`'s harness among the internal modules it has
 * loaded (`moduleLoadList`), and has declared a test (the harness's `beforeExit` handler, named
 * `exitHandler` on Node 20 to 24, is set up by the first, not by `run()`), runs under
 * `node --test` (`NODE_TEST_CONTEXT`), or was started on a script named as a test file is.
 * @module
 */
import { TEST_FILE } from "./module_runner.ts";

/** The internal module that `node:test`'s `test()` and `describe()` are made by. */
const HARNESS = "NativeModule internal/test_runner/harness";

/** The harness's `beforeExit` listener, added when the first test is declared. */
const HARNESS_EXIT_HANDLER = "exitHandler";

/** The variable `node --test` sets in each test file's process, which the file reports through. */
const TEST_CONTEXT_VARIABLE = "NODE_TEST_CONTEXT";

/** A test reporter that reads every event and writes nothing (a reporter must drain them). */
const SILENT_REPORTER =
  "data:text/javascript,export default async function*(events){for await(const e of events);}";

/** Node's test flags, which give this process's tests and reporters (`--test`, `--test-*`). */
export const TEST_FLAG: RegExp = /^--(?:test|experimental-test)/;

/**
 * Whether this process is a test file's, with `node:test` loaded: it has declared tests, or it
 * will (a child may start before the first is declared): it runs under `node --test`, or its main
 * script is named as a test file is.
 */
export function programHasTests(): boolean {
  const process = globalThis.process;
  const loaded = (process as { moduleLoadList?: string[] } | undefined)?.moduleLoadList;
  if (!loaded?.includes(HARNESS)) return false;
  return process.listeners("beforeExit").some((f) => f.name === HARNESS_EXIT_HANDLER)
    || process.env[TEST_CONTEXT_VARIABLE] !== undefined
    || TEST_FILE.test(process.argv[1] ?? "");
}

/**
 * The flags that leave a child's `node:test` tests skipped and unreported, when this process is
 * a test file's (else none). Names are left out by a pattern no name matches; where Node has
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
