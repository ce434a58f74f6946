/**
 * Typed views of the `Deno` and `Bun` namespaces: just the members the runtime layer uses,
 * so the library type-checks on every runtime without either runtime's type package.
 * @module
 */

/** A Deno child process, as `Deno.Command#spawn()` returns it. */
export interface DenoChildProcess {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly status: Promise<{ code: number; signal: string | null }>;
  kill(signal?: string): void;
  ref(): void;
  unref(): void;
}

/** A pointer as Deno's FFI passes it. */
export type DenoPointer = object | null;

/** The part of `Deno` the runtime layer uses. */
export interface DenoNamespace {
  readonly pid: number;
  readonly ppid: number;
  /** The code the process (or, in a worker, the worker) ends with. */
  exitCode: number;
  execPath(): string;
  exit(code?: number): never;
  readonly args: string[];
  readonly env: {
    get(name: string): string | undefined;
    set(name: string, value: string): void;
    delete(name: string): void;
    toObject(): Record<string, string>;
  };
  /** Undefined in a Web Worker. */
  readonly mainModule: string | undefined;
  readonly stdout: { writeSync(p: Uint8Array): number };
  readonly stdin: { read(p: Uint8Array): Promise<number | null> };
  readonly permissions: {
    querySync(desc: { name: string; command?: string; variable?: string }): {
      state: "granted" | "denied" | "prompt";
    };
  };
  readonly build: { readonly os: string };
  readonly errors: { readonly NotFound: abstract new(...args: never[]) => Error };
  readFileSync(path: string): Uint8Array;
  statSync(path: string): { isFile: boolean; isDirectory: boolean };
  readLinkSync(path: string): string;
  readTextFileSync(path: string): string;
  realPathSync(path: string): string;
  cwd(): string;
  chdir(dir: string): void;
  kill(pid: number, signal: string): void;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  unrefTimer(id: number): void;
  dlopen(
    path: string,
    symbols: Record<string, { name?: string; parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...a: unknown[]) => unknown> };
  readonly UnsafePointer: { value(p: DenoPointer): bigint };
  readonly UnsafePointerView: { getArrayBuffer(p: DenoPointer, len: number): ArrayBuffer };
  Command: new(
    cmd: string,
    options: {
      args: string[];
      stdin: "piped" | "null" | "inherit";
      stdout: "piped" | "null" | "inherit";
      stderr: "piped" | "null" | "inherit";
      env?: Record<string, string>;
      cwd?: string;
    },
  ) => { spawn(): DenoChildProcess; outputSync(): { success: boolean; stdout: Uint8Array } };
}

/** A Bun subprocess, as `Bun.spawn` returns it. */
export interface BunSubprocess {
  readonly pid: number;
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  send(message: unknown): void;
  kill(signal?: string | number): void;
  ref(): void;
  unref(): void;
}

/** The part of `Bun` the runtime layer uses. */
export interface BunNamespace {
  /** The path of the program's main module (in a single-file executable, under `/$bunfs/`). */
  readonly main: string;
  spawn(options: {
    cmd: string[];
    /** Past the standard three, files of this process the child gets as its fds 3, 4, ... */
    stdio:
      | ["ignore" | "inherit", "inherit", "inherit"]
      | ["pipe", "ignore", "ignore", ...number[]];
    env?: Record<string, string | undefined>;
    cwd?: string;
    serialization?: "advanced" | "json";
    ipc?: (message: unknown) => void;
    onExit?: (proc: BunSubprocess, exitCode: number | null, signalCode: number | null) => void;
  }): BunSubprocess;
}

const g = globalThis as unknown as { Deno?: DenoNamespace; Bun?: BunNamespace };

/** The `Deno` namespace; throws when not on Deno. */
export function deno(): DenoNamespace {
  if (!g.Deno) throw new Error("multiproc internal error: Deno namespace used outside Deno");
  return g.Deno;
}

/**
 * Deno's internal `core` (`Deno[Deno.internal].core`) if it has every function of `names`, else
 * undefined: its serializer and resource ops, which Deno's own modules use, not a public API --
 * each use has a public fallback for a Deno that changed them.
 */
export function denoCore<T>(names: readonly (keyof T & string)[]): T | undefined {
  try {
    const d = g.Deno as unknown as Record<string | symbol, unknown> | undefined;
    const internal = d?.internal as symbol | undefined;
    const core = internal ? (d![internal] as { core?: Record<string, unknown> })?.core : undefined;
    return core && names.every((n) => typeof core[n] === "function") ? core as T : undefined;
  } catch {
    return undefined;
  }
}

/** The `Bun` namespace; throws when not on Bun. */
export function bun(): BunNamespace {
  if (!g.Bun) throw new Error("multiproc internal error: Bun namespace used outside Bun");
  return g.Bun;
}
