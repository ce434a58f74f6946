/**
 * Length-prefixed frames for a byte stream that also carries a child's plain console text
 * (Deno's child process has only stdin, stdout and stderr). A frame is MAGIC, a 32-bit
 * little-endian length, then a serialized message (serialize.ts); every byte outside a frame is
 * text.
 * @module
 */
import { fromBytes, toBytes } from "./serialize.ts";

const MAGIC = new Uint8Array([0x1e, 0x1d, 0x4d, 0x50, 0x58]); // RS GS "MPX"
const HEADER = MAGIC.length + 4;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Uint8Array {
  const body = toBytes(message);
  const out = new Uint8Array(HEADER + body.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, body.length, true);
  out.set(body, HEADER);
  return out;
}

/** Splits a byte stream into messages and the text between them. */
export class FrameDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  readonly #onMessage: (message: unknown) => void;
  readonly #onText: (text: Uint8Array) => void;

  constructor(
    onMessage: (message: unknown) => void,
    onText: (text: Uint8Array) => void = () => {},
  ) {
    this.#onMessage = onMessage;
    this.#onText = onText;
  }

  /** Feeds the next chunk of the stream. */
  push(chunk: Uint8Array): void {
    this.#buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    for (;;) {
      const at = indexOfMagic(this.#buf);
      if (at === -1) {
        // Keep a tail that may be the start of a magic split across chunks.
        const keep = partialMagicTail(this.#buf);
        if (this.#buf.length > keep) this.#onText(this.#buf.subarray(0, this.#buf.length - keep));
        this.#buf = this.#buf.slice(this.#buf.length - keep);
        return;
      }
      if (at > 0) {
        this.#onText(this.#buf.subarray(0, at));
        this.#buf = this.#buf.subarray(at);
      }
      if (this.#buf.length < HEADER) return;
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
      const length = view.getUint32(MAGIC.length, true);
      if (this.#buf.length < HEADER + length) return;
      const body = this.#buf.subarray(HEADER, HEADER + length);
      this.#buf = this.#buf.slice(HEADER + length);
      this.#onMessage(fromBytes(body));
    }
  }

  /**
   * The stream ended: the bytes held back because they might have begun a frame marker are text
   * after all. A frame cut off by the end (its writer died mid-write) is dropped: a message is
   * whole or absent.
   */
  end(): void {
    if (this.#buf.length > 0 && this.#buf.length < MAGIC.length) this.#onText(this.#buf);
    this.#buf = new Uint8Array(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function indexOfMagic(buf: Uint8Array): number {
  let i = buf.indexOf(MAGIC[0]);
  while (i !== -1 && i + MAGIC.length <= buf.length) {
    let ok = true;
    for (let k = 1; k < MAGIC.length; k++) {
      if (buf[i + k] !== MAGIC[k]) {
        ok = false;
        break;
      }
    }
    if (ok) return i;
    i = buf.indexOf(MAGIC[0], i + 1);
  }
  return -1;
}

function partialMagicTail(buf: Uint8Array): number {
  for (let keep = Math.min(MAGIC.length - 1, buf.length); keep > 0; keep--) {
    let ok = true;
    for (let k = 0; k < keep; k++) {
      if (buf[buf.length - keep + k] !== MAGIC[k]) {
        ok = false;
        break;
      }
    }
    if (ok) return keep;
  }
  return 0;
}
