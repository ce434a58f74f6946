/**
 * Bytes that arrive in chunks (a pipe's, a socket's), for a reader of frames that say their
 * length: the chunks are joined into one buffer only once as many bytes as the reader needs have
 * come. Joining each chunk to the bytes before it makes a frame cost the square of its size (a
 * 32 MB message took ~20 s through a 64 KB pipe, a 16 MB one 2.4 s through a socket).
 * @module
 */

/** The bytes a reader has not taken yet, gathered from their chunks. */
export class Gathered {
  /** The first bytes, in one buffer. */
  #head: Uint8Array = new Uint8Array(0);
  /** Chunks after `#head`, not joined yet. */
  #parts: Uint8Array[] = [];
  #size = 0;
  #need = 0;

  /**
   * Adds `chunk` (which is kept: it must not be reused by its reader). Returns every byte held,
   * in one buffer, once at least the number `keep` last asked for are held; else null.
   */
  add(chunk: Uint8Array): Uint8Array | null {
    if (this.#size === 0) this.#head = chunk;
    else this.#parts.push(chunk);
    this.#size += chunk.length;
    return this.#size < this.#need ? null : this.all();
  }

  /** Every byte held, in one buffer (the chunks joined once). */
  all(): Uint8Array {
    if (this.#parts.length > 0) {
      const joined = new Uint8Array(this.#size);
      joined.set(this.#head);
      let at = this.#head.length;
      for (const p of this.#parts) {
        joined.set(p, at);
        at += p.length;
      }
      this.#head = joined;
      this.#parts = [];
    }
    return this.#head;
  }

  /**
   * After the reader took what it could from `add`'s buffer: holds `rest` (the bytes after
   * those, usually a view of that buffer) until `need` bytes are held (0: any next chunk).
   * A small rest of a much larger buffer is copied, not to hold all of it. Returns what it holds
   * (`rest` or its copy).
   */
  keep(rest: Uint8Array, need = 0): Uint8Array {
    const large = rest.buffer.byteLength > Math.max(4 * rest.length, 1 << 16);
    this.#head = rest.length > 0 && large ? rest.slice() : rest;
    this.#parts = [];
    this.#size = rest.length;
    this.#need = need;
    return this.#head;
  }
}
