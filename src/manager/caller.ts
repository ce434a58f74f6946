/**
 * Who calls a manager's object, and how its waits end: the base of the objects a manager owns.
 * A wait is a Promise, never a blocked thread, so one waiting caller holds up nobody; a caller
 * whose connection is lost has its waits ended (`CallerLost`) and gives back what it held.
 * @module
 */
import { Deadline } from "../core/deadline.ts";

/** Who calls: one connection to the manager (one process, or one program). */
export class Caller {
  readonly id: number;
  lost = false;
  readonly #onLost = new Set<() => void>();
  constructor(id: number) {
    this.id = id;
  }
  /** Runs `fn` when the connection is lost (once); returns how to forget it. */
  whenLost(fn: () => void): () => void {
    this.#onLost.add(fn);
    return () => this.#onLost.delete(fn);
  }
  /** Marks the caller lost and runs what waits for that. */
  lose(): void {
    this.lost = true;
    for (const fn of [...this.#onLost]) fn();
    this.#onLost.clear();
  }
}

/** Thrown into a wait whose caller is gone; never reaches anybody. */
export class CallerLost extends Error {}

/** The waits on one object: each is woken on every change and looks again. */
export class Waiters {
  readonly #wakes = new Set<() => void>();

  wakeAll(): void {
    for (const wake of [...this.#wakes]) wake();
  }

  /** Waits until `tryTake()` succeeds (true), or `timeoutMs` passes (false). */
  async until(
    tryTake: () => boolean,
    timeoutMs: number | undefined,
    caller: Caller,
    what: string,
  ): Promise<boolean> {
    const deadline = new Deadline(what, timeoutMs);
    for (;;) {
      if (tryTake()) return true;
      if (deadline.expired()) return false;
      await new Promise<void>((resolve) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const wake = () => {
          this.#wakes.delete(wake);
          forget();
          clearTimeout(timer);
          resolve();
        };
        const forget = caller.whenLost(wake);
        this.#wakes.add(wake);
        const left = deadline.remaining();
        if (Number.isFinite(left)) timer = setTimeout(wake, Math.min(left, 0x7fffffff));
      });
      if (caller.lost) throw new CallerLost();
    }
  }
}

/** Options of `acquire`, as the proxies send them. */
export type AcquireOptions = { blocking?: boolean; timeout?: number } | undefined;

/** Base of the manager's own objects: their methods take the caller first. */
export abstract class Managed {
  protected readonly waiters = new Waiters();
  /** The caller's connection was lost: give back what it held. */
  lost(_caller: Caller): void {}
}
