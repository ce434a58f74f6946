/**
 * Options objects, checked one way everywhere: absent, or an object whose every name the call
 * takes. A misspelt name is bad input that nothing shows: ignored, it changes only the outcome
 * (`{ chunkSize: 1000 }` maps one item per task; `{ max_workers: 2 }`, Python's spelling, starts
 * `cpuCount()` workers). So a name the call does not take is a `TypeError`, with the name meant
 * when it differs only in case and underscores, or is Python's or a sibling call's for it; a name
 * whose value is `undefined` passes (a spread of optional settings). And how a value is shown in
 * a message.
 *
 * Imports nothing: every layer may use it.
 * @module
 */

/** Every name an options type takes, each once: `{ a: true, b: true } satisfies OptionNames<T>`. */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Names meant otherwise than case and underscores tell: Python's (`mp_context`), and those of
 * sibling calls (CPython's locks take `blocking`, its queues `block`).
 */
const MEANT: Readonly<Record<string, string>> = {
  mp_context: "context",
  block: "blocking",
  blocking: "block",
};

/** Python's callback options (as `remedy` compares names), which JavaScript's promises replace. */
const CALLBACKS = new Set(["callback", "errorcallback"]);

/** What `checkOptions` returns for options not given: the same object each time, unchanged. */
const NONE = Object.freeze({});

/**
 * Checks `options` of the call `what` (e.g. `"ProcessPoolExecutor"`): `undefined` (returned as
 * an empty object) or an object whose names are all in `names`. Throws a `TypeError` naming the
 * call, the value or the name, and what to give; `example` is the options as a call writes them,
 * such as `{ maxWorkers: 4 }`.
 */
export function checkOptions<T extends object>(
  options: T | undefined,
  names: OptionNames<T>,
  what: string,
  example: string,
): T {
  if (options === undefined) return NONE as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(
      `${what}: options must be an object such as ${example}, got ${shown(options)}`,
    );
  }
  // for-in makes no array of the names: locks and queues check their options at every call.
  for (const name in options) {
    if (Object.hasOwn(names, name)) continue;
    if ((options as Record<string, unknown>)[name] === undefined) continue;
    throw new TypeError(`${what}: unknown option '${name}'${remedy(name, Object.keys(names))}`);
  }
  return options;
}

/** What to write instead of the unknown option `name`, among `known`. */
function remedy(name: string, known: string[]): string {
  const bare = (s: string) => s.replaceAll("_", "").toLowerCase();
  const meant = known.find((n) => bare(n) === bare(name))
    ?? (known.includes(MEANT[name]) ? MEANT[name] : undefined);
  if (meant) return ` (did you mean '${meant}'?)`;
  const takes = `: it takes ${known.map((n) => `'${n}'`).join(", ")}`;
  if (!CALLBACKS.has(bare(name))) return takes;
  // Python's apply_async(..., callback=, error_callback=): the result is awaited instead.
  return `${takes}; instead of Python's callbacks, chain on what the call returns: `
    + `.then(callback, errorCallback) (an AsyncResult's .get().then(...))`;
}

/** A function's text as an error message shows it: on one line, cut to a line's worth. */
export function functionText(f: unknown): string {
  const text = Function.prototype.toString.call(f).replace(/\s+/g, " ");
  return text.length > 60 ? `${text.slice(0, 60)} [cut]` : text;
}

/** A value as an error message shows it: strings quoted, other non-numbers with their kind. */
export function shown(value: unknown): string {
  if (typeof value === "number" || value === undefined || value === null) return String(value);
  if (typeof value === "string") return `${JSON.stringify(value)} (a string)`;
  if (typeof value === "bigint") return `${value}n (a bigint)`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${String(value)} (a ${typeof value})`;
}
