/**
 * The flags of a Bun program that change how its modules load -- preloads (`--preload`, `-r`,
 * `--require`, `--import`: a plugin, a polyfill, a global setup), `--conditions`, `--define`,
 * `--loader`, `--tsconfig-override`, `--env-file`, `--smol` -- which its children share: a
 * `"process"` child is started with them, a worker thread gets the preloads (Bun's `Worker`
 * option). Only these: a child must not get `--watch`, `--hot`, `--inspect` or the program's
 * `-e` code. Before, a child got none, and a module that needs a preload's plugin failed there.
 * @module
 */
import { originalDir, resolvePath } from "./host.ts";

/** Flags passed on, and whether each takes a value (`--flag value` or `--flag=value`). */
const SHARED = new Map<string, boolean>([
  ["--preload", true],
  ["-r", true],
  ["--require", true],
  ["--import", true],
  ["--conditions", true],
  ["--define", true],
  ["-d", true],
  ["--loader", true],
  ["-l", true],
  ["--tsconfig-override", true],
  ["--env-file", true],
  ["--no-env-file", false],
  ["--smol", false],
]);

const PRELOAD = new Set(["--preload", "-r", "--require", "--import"]);

/** This program's shared flags, each as one word (`--flag=value`). */
function sharedFlags(): [name: string, value: string | undefined][] {
  const argv = globalThis.process.execArgv;
  const out: [string, string | undefined][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const takesValue = SHARED.get(name);
    if (takesValue === undefined) continue;
    if (!takesValue) out.push([name, undefined]);
    else if (eq !== -1) out.push([name, arg.slice(eq + 1)]);
    else if (i + 1 < argv.length) out.push([name, argv[++i]]);
  }
  return out;
}

/**
 * The flags a Bun `"process"` child starts with. It starts in `originalDir()` (childHome), where
 * relative paths among them mean what they meant to the parent.
 */
export function bunChildFlags(): string[] {
  return sharedFlags().map(([name, value]) => value === undefined ? name : `${name}=${value}`);
}

/** The program's preloads, for a worker thread (a relative path made absolute). */
export function bunPreloads(): string[] {
  return sharedFlags().filter(([name]) => PRELOAD.has(name)).map(([, value]) =>
    /^\.\.?\//.test(value!) ? resolvePath(`${originalDir()}/${value}`) : value!
  );
}
