/**
 * Bytes written and read in order: sizes as varints, floats, strings (UTF-8 with a size first) and
 * raw bytes -- what portable.ts builds its format on. A writer grows its buffer as it goes.
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Strings up to this long are copied by hand when they are ASCII (names, keys, tags). */
const SHORT = 32;

/** Writes bytes in order into a buffer that grows. */
export class ByteWriter {
  bytes = new Uint8Array(4096);
  view = new DataView(this.bytes.buffer);
  at = 0;

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(2 * this.bytes.length, this.at + n));
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.at++] = b;
  }

  size(n: number): void {
    this.room(5);
    while (n >= 0x80) {
      this.bytes[this.at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.bytes[this.at++] = n;
  }

  float(x: number): void {
    this.room(8);
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }

  string(s: string): void {
    // Short ASCII strings are the common case: their length is known before encoding.
    this.room(5 + 3 * s.length);
    const lengthAt = this.at;
    this.at += 5;
    let written = 0;
    if (s.length <= SHORT) {
      // encodeInto's own cost is most of a short string's: copy ASCII by hand.
      const bytes = this.bytes, at = this.at;
      for (; written < s.length; written++) {
        const c = s.charCodeAt(written);
        if (c > 0x7f) break;
        bytes[at + written] = c;
      }
    }
    if (written < s.length) written = encoder.encodeInto(s, this.bytes.subarray(this.at)).written;
    // A 5-byte padded size keeps the position fixed; the reader reads it as any size.
    for (let k = 0, n = written; k < 5; k++, n >>>= 7) {
      this.bytes[lengthAt + k] = (n & 0x7f) | (k < 4 ? 0x80 : 0);
    }
    this.at += written;
  }

  raw(b: Uint8Array): void {
    this.size(b.length);
    this.room(b.length);
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
}

/** Reads what a `ByteWriter` wrote, in the same order. */
export class ByteReader {
  at = 0;
  readonly bytes: Uint8Array;
  #view: DataView | null = null;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Made when first needed: most messages hold no float. */
  get view(): DataView {
    const b = this.bytes;
    return this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  size(): number {
    const bytes = this.bytes;
    let b = bytes[this.at++];
    if (b < 0x80) return b;
    let n = b & 0x7f, scale = 0x80;
    do {
      b = bytes[this.at++];
      n += (b & 0x7f) * scale;
      scale *= 0x80;
    } while (b & 0x80);
    return n;
  }

  float(): number {
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  string(): string {
    const n = this.size();
    const at = this.at;
    this.at += n;
    if (n <= SHORT) {
      const bytes = this.bytes;
      let s = "", k = at;
      for (; k < at + n && bytes[k] <= 0x7f; k++) s += String.fromCharCode(bytes[k]);
      if (k === at + n) return s;
    }
    return decoder.decode(this.bytes.subarray(at, at + n));
  }

  raw(): Uint8Array {
    const n = this.size();
    const b = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return b;
  }
}
