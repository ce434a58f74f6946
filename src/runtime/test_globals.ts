/**
 * Test runners that declare tests through globals (Mocha's `describe` and `it`, Jasmine's): a
 * child that imports a test file for a target defined there has none of them, and the import
 * fails (`describe is not defined`). So a parent that has such globals hands their names to its
 * children, and a child defines each one it lacks as an inert function before it imports a
 * target's module: the file's declarations do nothing there (no suite body runs, no test, no
 * hook), and its functions can be found. Not under vitest or Jest, whose modules run in
 * the runner's own loader, which a child has no part of (module_runner.ts).
 * @module
 */
import { moduleRunner, TEST_GLOBALS } from "./module_runner.ts";

/**
 * The test globals this program has (functions on `globalThis` named as a runner names them),
 * for its children; none under vitest or Jest.
 * @example
 * ```ts
 * import { testGlobalsInUse } from "./test_globals.ts";
 * console.assert(Array.isArray(testGlobalsInUse()));
 * ```
 */
export function testGlobalsInUse(): string[] {
  if (moduleRunner() !== undefined) return [];
  const g = globalThis as Record<string, unknown>;
  return TEST_GLOBALS.filter((name) => typeof g[name] === "function");
}

/**
 * Defines each of `names` that this realm lacks as an inert function: a call, and any property
 * of it (`describe.skip`, `it.each(table)`), gives the same inert function back, and nothing is
 * ever called (not `then`: awaiting one's result does not wait).
 */
export function declareInertGlobals(names: readonly string[]): void {
  const g = globalThis as Record<string, unknown>;
  for (const name of names) {
    if (name in g) continue;
    Object.defineProperty(g, name, { value: inert, writable: true, configurable: true });
  }
}

const inert: unknown = new Proxy(function inert() {}, {
  apply: () => inert,
  get: (_, key) => (typeof key === "symbol" || key === "then" ? undefined : inert),
});
