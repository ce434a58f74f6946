/**
 * Reviving shared objects in a child: the constructor runs with the handle's data at hand, so
 * that it maps the existing memory instead of allocating new memory.
 * @module
 */
import { registerHandleKind } from "../handles.ts";

let pending: unknown;
let active = false;

/** The handle data the constructor is reviving from, or undefined for a new object. */
export function revivalData<T>(): T | undefined {
  return active ? pending as T : undefined;
}

/** Registers `kind` so that a child rebuilds it by calling `make` with the handle's data. */
export function registerRevivable<D>(kind: string, make: () => unknown): void {
  registerHandleKind(kind, (data) => {
    const before = [pending, active] as const;
    pending = data as D;
    active = true;
    try {
      return make();
    } finally {
      [pending, active] = before;
    }
  });
}
