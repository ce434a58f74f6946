/**
 * `SharedMemory`: a named POSIX shared-memory segment any process can attach to by name
 * (CPython's `multiprocessing.shared_memory.SharedMemory`).
 * @module
 */
import { shownAsText } from "../core/inspect.ts";
import { checkOptions, type OptionNames, shown } from "../core/options.ts";
import type { StartMethod } from "../core/start_method.ts";
import { HANDLE, type HandleState, Origin, registerKind } from "../handles/handle.ts";
import { track, untrack } from "../memory/tracker.ts";
import { type Mapping, native, NativeError } from "../runtime/native/mod.ts";

/**
 * Options of `new SharedMemory()`: create a segment (`create: true`, `size` bytes, an optional
 * `name`), or attach to one by `name`; `track: false` keeps it after the program ends.
 * @example
 * ```ts
 * import { SharedMemory } from "multiproc";
 * const made = new SharedMemory({ create: true, size: 1024 });
 * const seen = new SharedMemory({ name: made.name }); // attach, as another process would
 * seen.close();
 * made.close();
 * made.unlink();
 * ```
 */
export interface SharedMemoryOptions {
  /** The segment's name (without a leading `/`); a fresh one when creating without a name. */
  name?: string;
  /** Make a new segment (true) or attach to an existing one (false, the default). */
  create?: boolean;
  /** Size in bytes of a new segment (ignored when attaching: the segment's own size is used). */
  size?: number;
  /**
   * Unlink the segment when the main process exits if nobody did (default true). Pass false for
   * a segment that should outlive this program.
   */
  track?: boolean;
}

const SHM_OPTIONS = {
  name: true,
  create: true,
  size: true,
  track: true,
} as const satisfies OptionNames<SharedMemoryOptions>;

const NAME = /^[^/\0]{1,200}$/;

/**
 * Whether `name` (without its leading `/`) names a segment: 1 to 200 characters and at most 200
 * bytes of UTF-8 (a longer one failed in the tracker, "name longer than 248 bytes"), without `/`
 * or NUL, and not `.` or `..` (directories of /dev/shm: "a segment of that name exists").
 */
function isName(name: string): boolean {
  return NAME.test(name) && name !== "." && name !== ".."
    && new TextEncoder().encode(name).length <= 200;
}

/**
 * A block of shared memory with a name.
 * @example
 * ```ts
 * import { SharedMemory } from "multiproc";
 * const shm = new SharedMemory({ create: true, size: 1024 });
 * shm.buf[0] = 42;
 * const again = new SharedMemory({ name: shm.name }); // in this or any other process
 * console.log(again.buf[0]); // 42
 * again.close();
 * shm.close();
 * shm.unlink();
 * ```
 */
export class SharedMemory {
  static readonly kind = "SharedMemory";
  /** The segment's name, as given to `new SharedMemory({ name })` elsewhere. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  readonly #method: StartMethod;
  readonly #tracked: boolean;
  #buf: Uint8Array | null;
  /** Where the segment is mapped in this process, until `close()` lets it go. */
  #mapped: bigint | null;
  #unlinked = false;

  constructor(options?: SharedMemoryOptions);
  /** @internal */
  constructor(origin: Origin<{ name: string }>);
  constructor(a: SharedMemoryOptions | Origin<{ name: string }> = {}) {
    const origin = Origin.of<{ name: string }>(a, new.target);
    const revived = origin.revived;
    const options = a instanceof Origin
      ? {}
      : checkOptions(a, SHM_OPTIONS, "SharedMemory", "{ create: true, size: 1024 }");
    this.#method = origin.method;
    const { create = false, track: tracked = true } = options;
    let name = revived?.name ?? options.name;
    if (name !== undefined && (typeof name !== "string" || !isName(name.replace(/^\//, "")))) {
      throw new TypeError(
        `SharedMemory: name must be 1 to 200 characters without '/' or NUL (at most 200 bytes `
          + `of UTF-8, not . or ..), got ${JSON.stringify(name)}`,
      );
    }
    name = name?.replace(/^\//, "");
    this.#tracked = create && tracked;
    if (create) {
      const size = options.size;
      if (typeof size !== "number" || !Number.isInteger(size) || size <= 0) {
        throw new RangeError(
          `SharedMemory: creating needs size: a positive integer number of bytes, got ${
            shown(size)
          }`,
        );
      }
      name ??= `mp_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
      const mapping = createTracked(name, size, this.#tracked);
      unmapWhenCollected(mapping, size);
      this.#buf = new Uint8Array(mapping.buffer, 0, size);
      this.#mapped = mapping.address;
      this.size = size;
    } else {
      if (name === undefined) {
        throw new TypeError(
          "SharedMemory: give the name of a segment to attach to, or create: true to make one",
        );
      }
      const mapping = attach(name);
      unmapWhenCollected(mapping, mapping.size);
      this.#buf = new Uint8Array(mapping.buffer, 0, mapping.size);
      this.#mapped = mapping.address;
      this.size = mapping.size;
    }
    this.name = name;
  }

  /** The segment's bytes; throws after `close()`. */
  get buf(): Uint8Array {
    if (!this.#buf) throw new Error(`SharedMemory '${this.name}' is closed.`);
    return this.#buf;
  }

  /**
   * Stops using the segment from this object: `buf` throws afterwards, and this process lets go
   * of the segment's memory (freed once it is unlinked and no process maps it). Views taken from
   * `buf` earlier stay safe to touch: they read zeros from then on.
   */
  close(): void {
    const mapped = this.#mapped;
    this.#buf = null;
    this.#mapped = null;
    if (mapped !== null) native().release(mapped, this.size);
  }

  /** Removes the segment's name: no one can attach any more; it is freed once all have closed. */
  unlink(): void {
    if (this.#unlinked) return;
    native().unlinkNamed(`/${this.name}`);
    this.#unlinked = true;
    untrack(this.name);
  }

  /** @internal Attaches to the segment of a handle (see `registerKind`). */
  static fromHandle(origin: Origin): SharedMemory {
    return new SharedMemory(origin as Origin<{ name: string }>);
  }

  [HANDLE](): HandleState {
    // A named /dev/shm segment under every method: it crosses to children of either.
    return {
      kind: SharedMemory.kind,
      method: this.#method,
      data: { name: this.name },
      portable: true,
    };
  }

  /** For `console.log`. */
  toString(): string {
    return `SharedMemory('${this.name}', size=${this.size})`;
  }
}

registerKind(SharedMemory);
shownAsText(SharedMemory);

/** Unmaps a mapping once its buffer has been collected (see `unmapWhenCollected`). */
const collected = new FinalizationRegistry<{ address: bigint; size: number }>(
  ({ address, size }) => native().unmap(address, size),
);

/**
 * Unmaps `mapping` (of `size` bytes) once its buffer has been garbage-collected: no view of it is
 * left to touch it then. An object nobody closes -- a segment a pool task revives from its
 * arguments, once per task -- kept its mapping until the process ended, and a worker given the
 * same list in each of some 30 000 tasks reached the kernel's limit of mappings (65 530) and
 * aborted. CPython's unmaps as its object is collected, too. (`close()` lets the memory go at
 * once, keeping the range, read as zeros, for the views still held.)
 */
function unmapWhenCollected(mapping: Mapping, size: number): void {
  collected.register(mapping.buffer, { address: mapping.address, size });
}

/**
 * Creates segment `name` of `size` bytes; `tracked`, registered first, so that the program's end
 * unlinks it however it ends (a SIGKILL between the segment's creation and its registration left
 * it in /dev/shm). Registered but not made (it failed): the registration goes.
 */
function createTracked(name: string, size: number, tracked: boolean): Mapping {
  if (tracked) track(name, true);
  try {
    return native().createNamed(`/${name}`, size);
  } catch (error) {
    if (tracked) untrack(name);
    if (!(error instanceof NativeError) || error.code !== "EEXIST") throw error;
    throw new NativeError(
      `SharedMemory({ name: '${name}', create: true }): shm_open`,
      "shm_open",
      error.errno,
      "a segment of that name exists already; attach to it with { name } (without create), "
        + "pick another name, or unlink() the old one first",
    );
  }
}

/** Maps the segment named `name`; a name no segment has fails saying what may have happened. */
function attach(name: string): Mapping & { size: number } {
  try {
    return native().attachNamed(`/${name}`);
  } catch (error) {
    if (!(error instanceof NativeError) || error.code !== "ENOENT") throw error;
    throw new NativeError(
      `SharedMemory({ name: '${name}' }): shm_open`,
      "shm_open",
      error.errno,
      "no segment of that name exists (never made, or unlinked: by unlink() or at the end of the "
        + "program that made it); make one with { create: true, size }",
    );
  }
}
