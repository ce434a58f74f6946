/**
 * Length-prefixed frames for a byte stream that also carries a child's plain console text
 * (Deno's child process has only stdin, stdout and stderr). A frame is MAGIC, a 32-bit
 * little-endian length, then a serialized message (serialize.ts); every byte outside a frame is
 * text.
 * @module
 */
import { Gathered } from "../core/gather.ts";
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

/** Splits a byte stream into messages and the text between them (linear in its bytes). */
export class FrameDecoder {
  readonly #held = new Gathered();
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
    let buf = this.#held.add(chunk);
    if (!buf) return; // inside a frame that is not whole yet
    for (;;) {
      const at = indexOfMagic(buf);
      if (at === -1) {
        // Keep a tail that may be the start of a magic split across chunks.
        const keep = partialMagicTail(buf);
        if (buf.length > keep) this.#onText(buf.subarray(0, buf.length - keep));
        this.#held.keep(buf.subarray(buf.length - keep));
        return;
      }
      if (at > 0) {
        this.#onText(buf.subarray(0, at));
        buf = buf.subarray(at);
      }
      if (buf.length < HEADER) {
        this.#held.keep(buf);
        return;
      }
      const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const length = view.getUint32(MAGIC.length, true);
      if (buf.length < HEADER + length) {
        this.#held.keep(buf, HEADER + length); // gathered until it is whole
        return;
      }
      const body = buf.subarray(HEADER, HEADER + length);
      buf = this.#held.keep(buf.subarray(HEADER + length)); // taken, whatever the handler does
      this.#onMessage(fromBytes(body));
    }
  }

  /**
   * The stream ended: the bytes held back because they might have begun a frame marker are text
   * after all. A frame cut off by the end (its writer died mid-write) is dropped: a message is
   * whole or absent.
   */
  end(): void {
    const held = this.#held.all();
    if (held.length > 0 && held.length < MAGIC.length) this.#onText(held);
    this.#held.keep(new Uint8Array(0));
  }
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
