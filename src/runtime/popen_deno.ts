/**
 * The `"process"` start method on Deno: `Deno.Command` with the parent's own permissions and no
 * more. Messages go as frames over the child's stdin and stdout; the child's console text that
 * shares stdout is passed through to this process's stdout.
 * @module
 */
import { deathSignalPrefix } from "./death_signal.ts";
import { entryUrl } from "./entry_url.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { deno } from "./globals.ts";
import { writeStdoutSync } from "./host.ts";
import { signalExitCode } from "./os.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** Spawns a Deno child running the library's process entry. */
export function launchDenoCommand(options: LaunchOptions): Popen {
  const d = deno();
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
  const writer = child.stdin.getWriter();
  const decoder = new FrameDecoder(options.onMessage, (text) => writeStdoutSync(text));
  const pump = (async () => {
    try {
      for await (const chunk of child.stdout) decoder.push(chunk);
    } catch {
      // The pipe closed with the child.
    }
    decoder.end();
  })();
  const exited = child.status.then(async ({ code, signal }) => {
    // Our end of its stdin, closed now: else its pipe stays open until a garbage collection.
    writer.abort().catch(() => {});
    await pump;
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
      writer.write(encodeFrame(message)).catch(() => {});
    },
    terminate: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    unref: () => child.unref(),
    ref: () => child.ref(),
  };
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
