/**
 * What a Deno `"process"` child must share with its parent to load and run the program's
 * modules as it does: its configuration -- the parent's `--config`, `--import-map` or
 * `--no-config` flags, else the `deno.json` (or `deno.jsonc`) Deno found for the parent from its
 * main module's directory up -- and its flags that change what the runtime provides or where
 * modules come from (`--unstable-*`, `--v8-flags`, `--seed`, `--location`, `--cert`, `--lock`,
 * `--node-modules-dir`, `--cached-only`, ...). A child's main module is the library's entry
 * script, from which Deno would look elsewhere -- in a checkout, the library's own `deno.json`
 * -- so that the program's bare imports (its `"imports"` map) failed in every `"process"` child,
 * and no flag reached one (`Deno.openKv` was missing there under `--unstable-kv`). Deno has no
 * API for its flags: they are read from `/proc/self/cmdline` (Linux; elsewhere, or without read
 * access, the child gets none and finds its configuration itself, as before).
 * @module
 */
import { deno } from "./globals.ts";
import { fileExists, fileUrlToPath, originalDir, pathToFileUrl, resolvePath } from "./host.ts";

/**
 * Deno's flags that take a value (`--flag value` or `--flag=value`) and pass on, by the name
 * the child gets; those that name a file are made absolute.
 */
const VALUE_FLAGS = new Map([
  ["--config", "--config"],
  ["-c", "--config"],
  ["--import-map", "--import-map"],
  ["--cert", "--cert"],
  ["--seed", "--seed"],
  ["--location", "--location"],
]);

/** The value flags above that name a file. */
const FILE_FLAGS = new Set(["--config", "--import-map", "--cert"]);

/** Flags passed on as they are (with an `=value` when given one). */
const PLAIN_FLAG =
  /^--(?:unstable(?:-[a-z-]+)?|v8-flags|cached-only|no-remote|no-npm|no-lock|lock|frozen|node-modules-dir|unsafely-ignore-certificate-errors|no-config)(?:=|$)/;

let childFlags: string[] | undefined;

/**
 * The flags a Deno `"process"` child is given so that it resolves modules as its parent does:
 * worked out once (the command line and the configuration found do not change), not at every
 * child's start.
 */
export function denoChildFlags(): string[] {
  return childFlags ??= readChildFlags();
}

function readChildFlags(): string[] {
  // A Web Worker has no main module: the command line's first word that is no flag names it.
  let main = deno().mainModule;
  const argv = parentArgv() ?? [];
  const out: string[] = [];
  let chosen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (main === undefined && !arg.startsWith("-")) {
      main = /^[a-z][a-z0-9+.-]*:/i.test(arg) ? arg : pathToFileUrl(absolute(arg)).href;
    }
    if (isMain(arg, main!)) break; // the program's own arguments follow
    if (PLAIN_FLAG.test(arg)) {
      out.push(arg === "--lock" || arg.startsWith("--lock=") ? lockFlag(arg) : arg);
      if (arg === "--no-config") chosen = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = VALUE_FLAGS.get(eq === -1 ? arg : arg.slice(0, eq));
    if (name === undefined) continue;
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) break;
    out.push(`${name}=${FILE_FLAGS.has(name) ? absolute(value) : value}`);
    if (name === "--config") chosen = true;
  }
  if (!chosen && main?.startsWith("file:")) {
    const found = configFrom(fileUrlToPath(main));
    if (found) out.push(`--config=${found}`);
  }
  return out;
}

/** This process's command line after `deno` and its subcommand, or undefined if unreadable. */
function parentArgv(): string[] | undefined {
  const argv = ownCommandLine().slice(1, -1); // without the executable; ends with a NUL
  if (argv.length === 0) return undefined;
  return argv.slice(argv[0] === "run" ? 1 : 0);
}

let cmdline: string[] | undefined;

/**
 * This process's command line, NUL-separated words (empty if it cannot be read). Deno lets a
 * program read its own `/proc/self/cmdline` only with read access to it (`-A`, `--allow-read`);
 * with `--allow-run`, `cat` can read it. Without either, partial grants and flags are not passed
 * on: a child gets less than its parent, never more.
 */
export function ownCommandLine(): string[] {
  return cmdline ??= readCommandLine();
}

function readCommandLine(): string[] {
  const d = deno();
  const split = (bytes: Uint8Array) => new TextDecoder().decode(bytes).split("\0");
  try {
    return split(d.readFileSync("/proc/self/cmdline"));
  } catch {
    try {
      if (d.permissions.querySync({ name: "run" }).state !== "granted") return [];
      const out = new d.Command("cat", {
        args: [`/proc/${d.pid}/cmdline`],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      return out.success ? split(out.stdout) : [];
    } catch {
      return [];
    }
  }
}

/** Whether the command-line word `arg` names the main module `main` (a URL). */
function isMain(arg: string, main: string): boolean {
  if (arg === main) return true;
  if (arg.startsWith("-") || /^[a-z][a-z0-9+.-]*:/i.test(arg)) return false;
  return pathToFileUrl(absolute(arg)).href === main;
}

/** `--lock=<file>` with the file made absolute (`--lock` alone as it is). */
function lockFlag(arg: string): string {
  return arg === "--lock" ? arg : `--lock=${absolute(arg.slice("--lock=".length))}`;
}

/** A path made absolute against the directory the program started in; URLs as they are. */
function absolute(value: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(value) || value.startsWith("/")) return value;
  try {
    return resolvePath(`${originalDir()}/${value}`);
  } catch {
    return value; // the working directory is not readable here: the child resolves it alike
  }
}

/** The `deno.json` or `deno.jsonc` nearest above `file`, as Deno finds a main module's. */
function configFrom(file: string): string | undefined {
  for (
    let dir = file.slice(0, file.lastIndexOf("/"));
    dir;
    dir = dir.slice(0, dir.lastIndexOf("/"))
  ) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      if (fileExists(`${dir}/${name}`)) return `${dir}/${name}`;
    }
  }
  return undefined;
}
