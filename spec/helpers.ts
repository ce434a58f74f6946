/** Helpers shared by the spec files. */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

export const METHODS = ["thread", "process"] as const;

/**
 * The start methods with the warm start too (`"forkserver"`: process children booted ahead): the
 * notebook and the Process lifecycle run under all three.
 */
export const ALL_METHODS = [...METHODS, "forkserver"] as const;

/**
 * No network beyond loopback, for installs of the packed package: a registry that refuses every
 * connection, asked once (npm looks up the optional peers, the cluster's packages, and would
 * retry each for minutes; their absence is no error).
 */
export const OFFLINE = {
  npm_config_registry: "http://127.0.0.1:9/",
  NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/",
  npm_config_fetch_retries: "0",
  BUN_CONFIG_REGISTRY: "http://127.0.0.1:9/",
};

/** The runtime running the spec. */
export const RUNTIME: "deno" | "bun" | "node" = process.versions.deno
  ? "deno"
  : process.versions.bun
  ? "bun"
  : "node";

const tempDirs: string[] = [];
const removeTempDirs = () => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
};
// `deno test` ends without node:process's "exit" event; Deno's "unload" comes instead.
if (RUNTIME === "deno") globalThis.addEventListener("unload", removeTempDirs);
else process.on("exit", removeTempDirs);

/** A fresh temporary directory, removed when the spec process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "multiproc-spec-"));
  tempDirs.push(dir);
  return dir;
}

/** Reads a JSON report a child wrote. */
export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * The loader flags the running Node was given (`--import tsx` on Node 20 and 22; none on 24,
 * which strips types itself), as given: a script the spec starts loads TypeScript as the spec
 * does. Relative paths resolve against the working directory, as the spec's did.
 */
export function nodeLoaderArgs(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (/^(--import|--require|-r|--loader|--experimental-loader)$/.test(argv[i])) {
      if (i + 1 < argv.length) out.push(argv[i], argv[++i]);
    } else if (/^(--import|--require|--loader|--experimental-loader)=/.test(argv[i])) {
      out.push(argv[i]);
    }
  }
  return out;
}

/** The command that runs `script` on the runtime running the spec. */
export function scriptCommand(script: string, args: string[] = []): [string, string[]] {
  const path = fileURLToPath(new URL(`./fixtures/scripts/${script}`, import.meta.url));
  const pre = RUNTIME === "deno" ? ["run", "-A"] : RUNTIME === "node" ? nodeLoaderArgs() : [];
  return [process.execPath, [...pre, path, ...args]];
}

/** What a finished command printed, its exit code and how long it ran. */
export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd argv` to its end and collects its output; killed (and rejected) after `timeoutMs`. */
export function runCommand(
  cmd: string,
  argv: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    /** Written to the command's standard input (else it has none). */
    stdin?: string;
  } = {},
): Promise<Ran> {
  const { cwd, env, timeoutMs = 30_000, stdin } = options;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd,
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    if (stdin !== undefined) child.stdin!.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `'${[cmd, ...argv].join(" ")}' did not end within ${timeoutMs} ms:\n${stdout}\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Runs a fixture script to its end and collects its output. */
export function runScript(script: string, args: string[] = [], timeoutMs = 30_000): Promise<Ran> {
  const [cmd, argv] = scriptCommand(script, args);
  return runCommand(cmd, argv, { timeoutMs });
}

/**
 * Whether an OS process with this pid runs. A zombie (ended, not yet reaped: this sandbox's
 * PID 1 reaps no orphans) counts as ended.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Polls `predicate` every 20 ms until it holds or `ms` pass; returns whether it held. */
export async function eventually(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

/** Processes whose environment carries `MULTIPROC_SPEC_TAG=tag` (a program and its children). */
export function tagged(tag: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").includes(`MULTIPROC_SPEC_TAG=${tag}\0`)) {
        pids.push(Number(name));
      }
    } catch {
      // ended meanwhile, or not ours to read
    }
  }
  return pids;
}

/** `n` bytes in a pattern that no shifted or truncated copy matches (for large messages). */
export function patternedBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7 + (i >>> 12)) & 0xff;
  return bytes;
}

/** Whether `got` is a `Uint8Array` with exactly the bytes of `expected`. */
export function sameBytes(got: unknown, expected: Uint8Array): boolean {
  if (!(got instanceof Uint8Array) || got.length !== expected.length) return false;
  for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) return false;
  return true;
}
