/**
 * Errors crossing from a worker to the parent: name, message and stack travel as data, with the
 * error's own fields (Node's `code`, `errno`, `syscall`, `path`; a class's own), its `cause` and
 * an `AggregateError`'s `errors`, each crossed the same way. The parent rebuilds an error of the
 * same name, message and fields whose `cause` is the worker's stack (`RemoteTraceback`, as
 * CPython's), the error's own cause after it.
 * @module
 */
import { errorClassNamed } from "../core/errors.ts";

/** An error as it crosses. */
export interface WireError {
  name: string;
  message: string;
  stack: string;
  /** Its own enumerable fields that structured clone takes (the others are left behind). */
  props?: Record<string, unknown>;
  /** Its `cause`. */
  cause?: WireError;
  /** An `AggregateError`'s errors. */
  errors?: WireError[];
}

/** How deep causes and aggregated errors are followed (a cycle ends there too). */
const MAX_DEPTH = 8;

/** Flattens anything thrown into a `WireError`. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    const text = thrownText(error);
    const props = error !== null && typeof error === "object" ? ownData(error) : undefined;
    return { name: "Error", message: text, stack: `thrown: ${text}`, ...(props && { props }) };
  }
  const wire: WireError = {
    name: error.name,
    message: error.message,
    stack: error.stack ?? String(error),
  };
  const props = ownData(error);
  if (props) wire.props = props;
  if (depth < MAX_DEPTH && "cause" in error && error.cause !== undefined) {
    wire.cause = toWire(error.cause, depth + 1);
  }
  if (depth < MAX_DEPTH && error instanceof AggregateError && Array.isArray(error.errors)) {
    wire.errors = error.errors.map((e: unknown) => toWire(e, depth + 1));
  }
  return wire;
}

/** The error to reject a future with, rebuilt from what a worker sent. */
export function fromWire(w: WireError): Error {
  const traceback = new Error(
    `the worker's stack:\n${remoteText(w)}`,
    w.cause ? { cause: rebuilt(w.cause) } : undefined,
  );
  traceback.name = "RemoteTraceback";
  traceback.stack = remoteText(w);
  return rebuilt(w, traceback);
}

/** `w` as an error of its class (by name), fields and errors; its stack the worker's. */
function rebuilt(w: WireError, cause?: Error): Error {
  const options = cause ? { cause } : w.cause ? { cause: rebuilt(w.cause) } : undefined;
  const errors = w.errors?.map((e) => rebuilt(e));
  const Known = errorClassNamed(w.name) ?? Error;
  const error = errors
    ? new AggregateError(errors, w.message, options)
    : new Known(w.message, options);
  if (error.name !== w.name) error.name = w.name;
  if (!cause) error.stack = w.stack; // an error of the worker's, not made here
  if (w.props) Object.assign(error, w.props);
  return error;
}

/** The worker's stack, then each cause's, as Node prints a chain. */
function remoteText(w: WireError): string {
  let text = w.stack;
  for (let c = w.cause; c; c = c.cause) text += `\n[cause]: ${c.stack}`;
  return text;
}

/** Own enumerable fields of `object` that clone, if any (never `stack`, `message`, `cause`). */
function ownData(object: object): Record<string, unknown> | undefined {
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (key === "stack" || key === "message" || key === "cause") continue;
    let value: unknown;
    try {
      value = (object as Record<string, unknown>)[key];
      structuredClone(value);
    } catch {
      continue; // a getter that throws, or a value that does not clone: left behind
    }
    (props ??= {})[key] = value;
  }
  return props;
}

/** A thrown value that is not an error, as text: JSON where it has some, else `String()`. */
function thrownText(value: unknown): string {
  if (value !== null && typeof value === "object") {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined && json !== "{}") return json;
    } catch {
      // a cycle, a bigint: as String() gives it
    }
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
