/**
 * Keeping the program alive while it awaits something no runtime counts as pending work (a
 * child's exit, `Atomics.waitAsync`): without this, a program whose last act is `await` on such
 * a promise would end before it settles.
 * @module
 */

/** Returns `promise`, holding the event loop open until it settles. */
export function keepAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1 << 30);
  return promise.finally(() => clearInterval(timer));
}
