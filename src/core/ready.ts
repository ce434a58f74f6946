/**
 * What `connectionWait` waits on: connections, queues and processes say when they are ready.
 * @module
 */

/** The method of a waitable object: resolves true once it is ready, false after `timeoutMs`. */
export const READY: unique symbol = Symbol.for("multiproc.ready") as never;

/** An object `connectionWait` accepts. */
export interface Waitable {
  /**
   * Resolves true once there is something to receive, the stream has ended or the process has
   * exited; false after `timeoutMs` (0: look only).
   */
  [READY](timeoutMs: number): Promise<boolean>;
}
