/**
 * The names a `ClusterExecutor`'s functions go by across machines, each looked up once: found
 * from the function (its module and export or `task()` mark), then known without waiting.
 * @module
 */
import { withTimeout } from "../core/sleep.ts";
import { callerOf } from "../targets/callsite.ts";
import { ANONYMOUS, describeTarget, resolveTarget } from "../targets/task.ts";
import { type RemoteRef, remoteRef } from "./naming.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

/** How long the name of an anonymous `task()` is looked for (ms). */
const LABEL_MS = 1000;

/**
 * The name an anonymous `task()` is exported as, for logs, job names and errors -- not waited for
 * past a second (its module may be evaluating, waiting for this very task); undefined if unknown.
 */
async function labelOf(fn: AnyFn, what: string): Promise<string | undefined> {
  const label = await withTimeout(describeTarget(fn), LABEL_MS, `${what}: naming`);
  return label === ANONYMOUS ? undefined : label;
}

/** Each function's name across machines; the promise until it is known. */
export class FunctionRefs {
  readonly #refs = new Map<AnyFn, Promise<RemoteRef> | RemoteRef>();

  readonly #what: string;
  readonly #root: string;
  readonly #module: string | URL | undefined;

  /**
   * @param what The executor, for errors ("ClusterExecutor").
   * @param root The project root every machine has.
   * @param module The executor's `module` option: where to look for functions of no module file.
   */
  constructor(what: string, root: string, module: string | URL | undefined) {
    this.#what = what;
    this.#root = root;
    this.#module = module;
  }

  /** `fn`'s name across machines: known, or the promise of it (looked up once per function). */
  refOf(fn: AnyFn): Promise<RemoteRef> | RemoteRef {
    let ref = this.#refs.get(fn);
    if (!ref) {
      const what = `${this.#what}: cannot run`;
      const found = resolveTarget(fn, this.#module, callerOf(), what).then(async (r) => {
        const label = r.name || r.exportName !== undefined
          ? undefined
          : await labelOf(fn, this.#what);
        return remoteRef(r, this.#root, what, label);
      });
      found.then((r) => this.#refs.set(fn, r), () => {}); // known: no promise to wait for
      this.#refs.set(fn, ref = found);
    }
    return ref;
  }
}
