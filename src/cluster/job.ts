/**
 * A client's task as a BullMQ job: its record from `run()` until its future settles, and its
 * arguments packed -- inline in the job, or, when large, in a key of their own.
 * @module
 */
import type { Future } from "../futures/future.ts";
import { bytesOver, type Codec, type Packed, tooLarge, valuesOf } from "./codec.ts";
import { type RemoteRef, taskName } from "./naming.ts";
import { DEFAULT_TASK_BYTES, isLarge, sideKey, type SideRef, type TaskData } from "./protocol.ts";

/** A task of this client, from `run()` until its future settles. */
export interface Pending {
  readonly id: string;
  readonly future: Future<unknown>;
  /** The function's name across machines; the promise until it is known. */
  ref: Promise<RemoteRef> | RemoteRef;
  readonly args: unknown[];
  readonly chunk: boolean;
  readonly timeout?: number;
  /** The call that made it, for errors: "ClusterExecutor.submit()". */
  readonly what: string;
  /** The key of its arguments, when large (deleted once it has settled). */
  side?: string;
  /** Its large result is being taken from its key. */
  taking?: boolean;
  /** Added to Redis (else waiting here). */
  added: boolean;
  /** Redis said it has it (the add resolved). */
  confirmed?: boolean;
}

/** A task's job, and its large arguments with the key they go to. */
export interface PackedJob {
  readonly job: { readonly id: string; readonly data: TaskData };
  readonly side?: [string, Packed];
}

/** Arguments too large: their size, or why they could not be packed. */
interface Oversize {
  readonly bytes?: number;
  readonly cause?: unknown;
}

const isPacked = (v: Packed | Oversize): v is Packed =>
  typeof v === "string" || v instanceof Uint8Array;

/**
 * Task `p`'s job on `queue`, its function named `ref`. Throws a `RangeError` if its arguments
 * take more than `maxTaskBytes`, or more than a string can hold: the task fails alone, before
 * Redis -- where a value over its limit would fail every job added with it.
 */
export function packJob(
  codec: Codec,
  p: Pending,
  ref: RemoteRef,
  queue: string,
  maxTaskBytes: number,
): PackedJob {
  const packed = pack(codec, p.args, maxTaskBytes);
  if (!isPacked(packed)) {
    const args = valuesOf("arguments", taskName(ref), p.chunk ? p.args : undefined);
    throw tooLarge(
      `${p.what}: ${args}`,
      "arguments",
      p.chunk,
      packed.bytes,
      maxTaskBytes,
      packed.cause,
    );
  }
  const maxBytes = maxTaskBytes === DEFAULT_TASK_BYTES ? undefined : maxTaskBytes; // not sent
  let args: string | SideRef;
  let side: [string, Packed] | undefined;
  if (isLarge(packed)) {
    args = { key: sideKey(queue, p.id, "args"), json: typeof packed === "string" };
    side = [args.key, packed];
  } else args = codec.inline(packed);
  return {
    job: { id: p.id, data: { ref, args, chunk: p.chunk, timeout: p.timeout, maxBytes } },
    side,
  };
}

/** `args` packed, or, past `limit` bytes or what a string holds, what to say instead. */
function pack(codec: Codec, args: unknown[], limit: number): Packed | Oversize {
  try {
    const packed = codec.pack(args);
    const bytes = bytesOver(codec, packed, limit);
    return bytes === undefined ? packed : { bytes };
  } catch (cause) {
    if (cause instanceof RangeError) return { cause }; // "Invalid string length"
    throw cause;
  }
}
