/**
 * The `"process"` start method on Deno: `Deno.Command` with the parent's own permissions and no
 * more. Messages go as frames over the child's stdin and stdout; the child's console text that
 * shares stdout is passed through to this process's stdout.
 * @module
 */
import { deathSignalPrefix } from "./death_signal.ts";
import { entryUrl } from "./entry_url.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { deno, denoCore } from "./globals.ts";
import { writeStdoutSync } from "./host.ts";
import { signalExitCode } from "./os.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** Spawns a Deno child running the library's process entry. */
export function launchDenoCommand(options: LaunchOptions): Popen {
  const d = deno();
  const before = pipeRids();
  // Killed with this process, even while busy, through setpriv where it can be (death_signal.ts).
  const [cmd, ...wrapperArgs] = [...deathSignalPrefix(), d.execPath()];
  const child = new d.Command(cmd, {
    // The program's arguments after the entry: the child's `Deno.args` and node:process's
    // `process.argv` are the parent's from its start (CPython's spawn hands over sys.argv).
    args: [
      ...wrapperArgs,
      "run",
      "--no-prompt",
      ...permissionFlags(),
      entryUrl("process"),
      ...d.args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const decoder = new FrameDecoder(options.onMessage, (text) => writeStdoutSync(text));
  // The child's pipes read and written with Deno's own resource ops where they are found (else
  // through the streams): a stream's read and write each take more turns of the event loop, which
  // added ~0.2 ms to a warm start's round trip here (its boot out, its "ready" back).
  const raw = rawPipes(before);
  let unrefd = false;
  let reading: Promise<number | null> | null = null;
  const pump = raw
    ? (async () => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          reading = raw.core.read(raw.stdout, buf);
          if (unrefd) raw.core.unrefOpPromise(reading);
          const n = await reading;
          reading = null;
          if (!n) break;
          decoder.push(buf.slice(0, n)); // a copy: the decoder may keep part of it
        }
      } catch {
        // The pipe closed with the child.
      }
      decoder.end();
    })()
    : (async () => {
      try {
        for await (const chunk of child.stdout) decoder.push(chunk);
      } catch {
        // The pipe closed with the child.
      }
      decoder.end();
    })();
  const writer = raw ? null : child.stdin.getWriter();
  let writing: Promise<unknown> = Promise.resolve();
  const exited = child.status.then(async ({ code, signal }) => {
    // Our end of its stdin, closed now: else its pipe stays open until a garbage collection.
    if (writer) writer.abort().catch(() => {});
    else writing.then(() => child.stdin.abort()).catch(() => {});
    await pump;
    if (raw) child.stdout.cancel().catch(() => {}); // its pipe, closed now too
    return signal ? signalExitCode(signal) : code;
  });
  const signal = (name: string) => {
    try {
      child.kill(name);
    } catch {
      // Already ended.
    }
  };
  return {
    pid: child.pid,
    ident: child.pid,
    exited,
    send(message) {
      const frame = encodeFrame(message);
      if (writer) writer.write(frame).catch(() => {});
      else writing = writing.then(() => raw!.core.writeAll(raw!.stdin, frame)).catch(() => {});
    },
    terminate: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    unref: () => {
      unrefd = true;
      if (raw && reading) raw.core.unrefOpPromise(reading);
      child.unref();
    },
    ref: () => {
      unrefd = false;
      if (raw && reading) raw.core.refOpPromise(reading);
      child.ref();
    },
  };
}

/** Deno's internal ops on resources, where this Deno has them (`denoCore`). */
interface ResourceOps {
  resources(): Record<string, string>;
  read(rid: number, buf: Uint8Array): Promise<number | null>;
  writeAll(rid: number, buf: Uint8Array): Promise<void>;
  unrefOpPromise(p: Promise<unknown>): void;
  refOpPromise(p: Promise<unknown>): void;
}

const resourceOps = (): ResourceOps | undefined =>
  denoCore<ResourceOps>(["resources", "read", "writeAll", "unrefOpPromise", "refOpPromise"]);

/** The resource ids open now (before a spawn: the child's pipes are the new ones after it). */
function pipeRids(): Set<string> {
  return new Set(Object.keys(resourceOps()?.resources() ?? {}));
}

/** The spawned child's stdin and stdout resources: those opened since `before`, by their names. */
function rawPipes(
  before: Set<string>,
): { core: ResourceOps; stdin: number; stdout: number } | null {
  const core = resourceOps();
  if (!core) return null;
  const now = core.resources();
  const fresh = Object.keys(now).filter((rid) => !before.has(rid));
  const stdin = fresh.filter((rid) => now[rid] === "childStdin");
  const stdout = fresh.filter((rid) => now[rid] === "childStdout");
  if (stdin.length !== 1 || stdout.length !== 1) return null;
  return { core, stdin: Number(stdin[0]), stdout: Number(stdout[0]) };
}

let ownCmdline: string[] | undefined;

/** `--allow-*` flags for exactly what this process was granted. */
function permissionFlags(): string[] {
  const d = deno();
  const flags: string[] = [];
  for (const name of PERMISSIONS) {
    let state: string;
    try {
      state = d.permissions.querySync({ name }).state;
    } catch {
      continue; // a permission kind this Deno does not know
    }
    if (state === "granted") flags.push(`--allow-${name}`);
    else if (state === "prompt") {
      // Possibly granted for some paths or hosts only: repeat the parent's own flag.
      ownCmdline ??= ownCommandLine(d.permissions.querySync({ name: "run" }).state === "granted");
      flags.push(...ownCmdline.filter((a) => a.startsWith(`--allow-${name}=`)));
    }
  }
  return flags;
}

/**
 * This process's command line. Deno lets a program read its own `/proc/self/cmdline` only
 * under `-A`; with `--allow-run`, `cat` can read it. Without either, partial grants are not
 * passed on: the child gets less than the parent, never more.
 */
function ownCommandLine(mayRun: boolean): string[] {
  const d = deno();
  const split = (bytes: Uint8Array) => new TextDecoder().decode(bytes).split("\0");
  try {
    return split(d.readFileSync("/proc/self/cmdline"));
  } catch {
    if (!mayRun) return [];
    try {
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
