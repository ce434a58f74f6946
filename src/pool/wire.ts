/**
 * Errors crossing from a worker to the parent: name, message and stack travel as data, and the
 * parent rebuilds an error of the same name and message whose `cause` carries the worker's stack.
 * @module
 */
import { errorClassNamed } from "../core/errors.ts";

/** An error as it crosses. */
export interface WireError {
  name: string;
  message: string;
  stack: string;
}

/** Flattens anything thrown into a `WireError`. */
export function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, stack: error.stack ?? String(error) };
  }
  return { name: "Error", message: String(error), stack: `thrown: ${String(error)}` };
}

/** The error to reject a future with, rebuilt from what a worker sent. */
export function fromWire(w: WireError): Error {
  const cause = new Error(`the worker's stack:\n${w.stack}`);
  cause.name = "RemoteTraceback";
  cause.stack = w.stack;
  const Known = errorClassNamed(w.name) ?? Error;
  const error = new Known(w.message, { cause });
  if (error.name !== w.name) error.name = w.name;
  return error;
}
