/**
 * What `console.log` shows of the library's objects: their `toString()` (as CPython's `print`
 * shows an object's repr), not their internals -- a `Lock` would show the 64 KiB of shared memory
 * under it. Node and Bun ask `util.inspect.custom`, Deno its own `Deno.customInspect`.
 *
 * Imports nothing: every layer may use it.
 * @module
 */

/** The method Node's and Bun's `util.inspect` (so `console.log`) call, if an object has it. */
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");
/** Deno's. */
const DENO_INSPECT = Symbol.for("Deno.customInspect");

function inspected(this: { toString(): string }): string {
  return this.toString();
}

/** Makes `console.log` and `util.inspect` show objects of `classes` as their `toString()`. */
export function shownAsText(...classes: { prototype: { toString(): string } }[]): void {
  for (const cls of classes) {
    for (const key of [NODE_INSPECT, DENO_INSPECT]) {
      Object.defineProperty(cls.prototype, key, { value: inspected, configurable: true });
    }
  }
}
