/**
 * Writing whole buffers to this process's stdout synchronously.
 * @module
 */
import { writeSync } from "node:fs";

/** Writes all of `bytes` to stdout (fd 1) before returning. */
export function writeAllSync(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(1, bytes, off, bytes.length - off);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
    }
  }
}
