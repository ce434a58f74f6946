/**
 * The `"process"` start method on Deno: `Deno.Command` with the parent's own permissions and no
 * more. Messages go as frames over the child's stdin and stdout; the child's console text that
 * shares stdout is passed through to this process's stdout.
 * @module
 */
import { deathSignalPrefix } from "./death_signal.ts";
import { denoChildFlags, ownCommandLine } from "./deno_flags.ts";
import { entryToStart } from "./entry_url.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { deno, type DenoChildProcess, denoCore } from "./globals.ts";
import { childHome, writeStdoutSync } from "./host.ts";
import { signalExitCode } from "./os.ts";
import type { LaunchOptions, Popen } from "./popen.ts";

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** Spawns a Deno child running the library's process entry. */
export function launchDenoCommand(options: LaunchOptions): Popen {
  const d = deno();
  const ops = resourceOps();
  const before = new Set(Object.keys(ops?.resources() ?? {}));
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
      ...denoChildFlags(),
      entryToStart("process"),
      ...d.args,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    cwd: childHome(),
  }).spawn();
  // The child's pipes read and written with Deno's own resource ops where they are found (else
  // through the streams): a stream's read and write each take more turns of the event loop, which
  // added ~0.2 ms to a warm start's round trip here (its boot out, its "ready" back).
  const rids = ops && childPipeRids(ops, before);
  const pipes = rids ? resourcePipes(child, ops!, rids) : streamPipes(child);
  // The child's console text, passed on to this process's stdout. Once that fails (its reader
  // went away: `| head`), the text is dropped and the child's messages are still read: a
  // failure here ended the pump, and every task of the child waited forever.
  let passOn = true;
  const decoder = new FrameDecoder(options.onMessage, (text) => {
    if (!passOn) return;
    try {
      writeStdoutSync(text);
    } catch {
      passOn = false;
    }
  });
  const pump = (async () => {
    try {
      for await (const chunk of pipes.output) decoder.push(chunk);
    } catch {
      // The pipe closed with the child.
    }
    decoder.end();
  })();
  const exited = child.status.then(async ({ code, signal }) => {
    // Our end of its stdin, closed now: else its pipe stays open until a garbage collection.
    pipes.endInput();
    await pump;
    pipes.endOutput();
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
    send: (message) => pipes.write(encodeFrame(message)),
    terminate: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    unref: () => {
      pipes.keepAlive(false);
      child.unref();
    },
    ref: () => {
      pipes.keepAlive(true);
      child.ref();
    },
  };
}

/** A child's stdin and stdout, as its parent uses them. */
interface ChildPipes {
  /** What the child writes to its stdout. */
  readonly output: AsyncIterable<Uint8Array>;
  write(frame: Uint8Array): void;
  /** Closes our end of its stdin (once it has exited). */
  endInput(): void;
  /** Closes our end of its stdout (once it is read to its end). */
  endOutput(): void;
  /** Whether a pending read keeps this program alive (the child's `ref`/`unref` do the rest). */
  keepAlive(on: boolean): void;
}

/** The pipes through the child's streams. */
function streamPipes(child: DenoChildProcess): ChildPipes {
  const writer = child.stdin.getWriter();
  return {
    output: child.stdout,
    write: (frame) => void writer.write(frame).catch(() => {}),
    endInput: () => void writer.abort().catch(() => {}),
    endOutput: () => {}, // a stream read to its end has closed
    keepAlive: () => {}, // the child's ref/unref cover its streams
  };
}

/** The pipes through Deno's resource ops on their ids, writes one after another. */
function resourcePipes(
  child: DenoChildProcess,
  ops: ResourceOps,
  rids: { stdin: number; stdout: number },
): ChildPipes {
  let reading: Promise<number | null> | null = null;
  let alive = true;
  let writing: Promise<unknown> = Promise.resolve();
  async function* output(): AsyncGenerator<Uint8Array> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      reading = ops.read(rids.stdout, buf);
      if (!alive) ops.unrefOpPromise(reading);
      const n = await reading;
      reading = null;
      if (!n) return;
      yield buf.slice(0, n); // a copy: the decoder may keep part of it
    }
  }
  return {
    output: output(),
    write: (frame) => {
      writing = writing.then(() => ops.writeAll(rids.stdin, frame)).catch(() => {});
    },
    endInput: () => void writing.then(() => child.stdin.abort()).catch(() => {}),
    endOutput: () => void child.stdout.cancel().catch(() => {}), // the streams own the ids
    keepAlive: (on) => {
      alive = on;
      if (reading) on ? ops.refOpPromise(reading) : ops.unrefOpPromise(reading);
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

/** The spawned child's stdin and stdout ids: the resources of their names opened since `before`. */
function childPipeRids(
  ops: ResourceOps,
  before: Set<string>,
): { stdin: number; stdout: number } | undefined {
  const now = ops.resources();
  const fresh = Object.keys(now).filter((rid) => !before.has(rid));
  const stdin = fresh.filter((rid) => now[rid] === "childStdin");
  const stdout = fresh.filter((rid) => now[rid] === "childStdout");
  if (stdin.length !== 1 || stdout.length !== 1) return undefined;
  return { stdin: Number(stdin[0]), stdout: Number(stdout[0]) };
}

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
    else {
      // Possibly granted for some paths or hosts only ("prompt"; "denied" once an access outside
      // them was refused): repeat the parent's own flag, if it has one.
      flags.push(...ownCommandLine().filter((a) => a.startsWith(`--allow-${name}=`)));
    }
  }
  return flags;
}
