/**
 * The handshake of `Listener` and `Client`, CPython's challenge-response: the listener sends
 * `#CHALLENGE#{sha256}` and 32 random bytes, the client answers with the HMAC-SHA256 of that
 * message under the shared `authkey`, the listener says `#WELCOME#` or `#FAILURE#`; then the
 * client challenges the listener the same way, so each side knows the other holds the key. A
 * listener without an `authkey` sends `#OPEN#` instead, so that a key on one side only fails at
 * once on both, with `AuthenticationError`, before any message is read.
 * @module
 */
import { AuthenticationError, EOFError } from "../core/errors.ts";
import { shown } from "../core/options.ts";
import type { SocketConnection } from "./socket_connection.ts";

/**
 * A shared secret: bytes, or a string taken as its UTF-8 bytes.
 * @example
 * ```ts
 * import type { AuthKey } from "multiproc";
 * const key: AuthKey = crypto.getRandomValues(new Uint8Array(32));
 * ```
 */
export type AuthKey = string | Uint8Array;

const CHALLENGE = "#CHALLENGE#", WELCOME = "#WELCOME#", FAILURE = "#FAILURE#", OPEN = "#OPEN#";
const DIGEST = "{sha256}";
/** How long a peer may take to answer one step of the handshake. */
export const HANDSHAKE_MS = 20_000;
const text = new TextEncoder();
const untext = new TextDecoder();

/** The key's bytes; a `TypeError` for anything else. */
export function keyBytes(key: AuthKey, what: string): Uint8Array {
  if (typeof key === "string") return text.encode(key);
  if (key instanceof Uint8Array) return key;
  throw new TypeError(`${what}: authkey must be a string or a Uint8Array, got ${shown(key)}`);
}

async function hmac(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message as Uint8Array<ArrayBuffer>));
}

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === "string" ? text.encode(p) : p));
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) out.set(b, (at += b.length) - b.length);
  return out;
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  return untext.decode(bytes.subarray(0, prefix.length)) === prefix;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function deliverChallenge(conn: SocketConnection, key: Uint8Array, who: string) {
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const message = concat(DIGEST, nonce);
  conn.sendBytes(concat(CHALLENGE, message));
  const answer = await conn._recvBytesWithin(HANDSHAKE_MS, who);
  const expected = concat(DIGEST, await hmac(key, message));
  if (!sameBytes(answer, expected)) {
    conn.sendBytes(text.encode(FAILURE));
    throw new AuthenticationError(`${who}: the peer at ${conn.peer} answered with a wrong authkey`);
  }
  conn.sendBytes(text.encode(WELCOME));
}

async function answerChallenge(
  conn: SocketConnection,
  key: Uint8Array,
  who: string,
  challenge?: Uint8Array,
) {
  challenge ??= await conn._recvBytesWithin(HANDSHAKE_MS, who);
  if (!startsWith(challenge, CHALLENGE)) {
    throw new AuthenticationError(`${who}: the peer at ${conn.peer} is not a multiproc Listener`);
  }
  const message = challenge.subarray(CHALLENGE.length);
  conn.sendBytes(concat(DIGEST, await hmac(key, message)));
  const verdict = await conn._recvBytesWithin(HANDSHAKE_MS, who);
  if (!startsWith(verdict, WELCOME)) {
    throw new AuthenticationError(
      `${who}: the peer at ${conn.peer} refused this authkey: give both sides the same authkey`,
    );
  }
}

/** Runs the handshake of a listener's side; `AuthenticationError` if the peer fails it. */
export async function authenticateClient(
  conn: SocketConnection,
  key: Uint8Array | null,
  who: string,
): Promise<void> {
  await fenced(conn, who, false, async () => {
    if (!key) return conn.sendBytes(text.encode(OPEN));
    await deliverChallenge(conn, key, who);
    await answerChallenge(conn, key, who);
  });
}

/**
 * Runs the handshake of a client's side; `AuthenticationError` if the listener fails it,
 * `EOFError` if it closes the connection first (as CPython's: a listener that is going away).
 */
export async function authenticateListener(
  conn: SocketConnection,
  key: Uint8Array | null,
  who: string,
): Promise<void> {
  await fenced(conn, who, true, async () => {
    const first = await conn._recvBytesWithin(HANDSHAKE_MS, who);
    if (startsWith(first, OPEN)) {
      if (key) {
        throw new AuthenticationError(
          `${who}: the listener at ${conn.peer} takes no authkey, and this client gave one: `
            + `give the Listener the same authkey, or none to either`,
        );
      }
      return;
    }
    if (!key) {
      throw new AuthenticationError(
        `${who}: the listener at ${conn.peer} requires an authkey: pass { authkey } to Client()`,
      );
    }
    await answerChallenge(conn, key, who, first);
    await deliverChallenge(conn, key, who);
  });
}

/**
 * Runs `steps`; on any failure closes `conn` and throws `AuthenticationError` (`EOFError` as it
 * is if `eof`: the peer closed the connection).
 */
async function fenced(
  conn: SocketConnection,
  who: string,
  eof: boolean,
  steps: () => Promise<void>,
) {
  try {
    await steps();
  } catch (error) {
    conn.close();
    if (error instanceof AuthenticationError) throw error;
    if (eof && error instanceof EOFError) {
      throw new EOFError(
        `${who}: the listener at ${conn.peer} closed the connection during the handshake: `
          + `${error.message}`,
        { cause: error },
      );
    }
    throw new AuthenticationError(
      `${who}: the handshake with ${conn.peer} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
