/**
 * Shared objects (values, arrays, locks, queues, ...) cross to a child as handles to the same
 * memory, also nested in arrays, plain objects, Maps and Sets; everything else crosses by
 * structured clone. A shareable object says what it is with `[HANDLE]()` (its `toHandle`); its
 * class is registered once in the table of kinds (`registerKind`, CPython's
 * `reduction.register`) and rebuilds the object in a child with its static `fromHandle(origin)`.
 * A constructor learns whether it makes a new object or revives one from an explicit `Origin`
 * argument, never from module state. How values holding them are encoded and decoded for a
 * child: `encoding.ts`.
 * @module
 */
import { shown } from "../core/options.ts";
import {
  checkStartMethod,
  type ContextLike,
  getStartMethod,
  type StartMethod,
} from "../state/start_method.ts";

/** Implemented by objects that cross to children as handles. */
export const HANDLE: unique symbol = Symbol.for("multiproc.handle") as never;

/** What a shareable object says about itself when it crosses. */
export interface HandleState {
  /** The registered kind, e.g. `"Value"`. */
  kind: string;
  /** The start method of the context that made it. */
  method: StartMethod;
  /** Whatever the reviver needs, structured-cloneable. */
  data: unknown;
  /**
   * True for objects reached by address or name (a manager's proxies, named /dev/shm segments):
   * they go to children of any method.
   */
  portable?: boolean;
}

/** An object that crosses to children as a handle. */
export interface Shareable {
  [HANDLE](): HandleState;
}

/** The start method a context-made subclass is bound to (see `context.ts`). */
export const BOUND_METHOD: unique symbol = Symbol.for("multiproc.boundMethod") as never;

/**
 * Where a shared object comes from, given to its constructor: new memory for a start method, or
 * the memory of a handle being revived (`data`, what its `[HANDLE]()` said).
 */
export class Origin<D = unknown> {
  /** The start method the object belongs to. */
  readonly method: StartMethod;
  /** The handle's data when reviving, else undefined. */
  readonly revived: D | undefined;

  private constructor(method: StartMethod, revived: D | undefined) {
    this.method = method;
    this.revived = revived;
  }

  /** A new object of start method `method`. */
  static fresh(method: StartMethod): Origin<never> {
    return new Origin<never>(method, undefined);
  }

  /** A revived object of `method`, from its handle's `data`. */
  static revive<D>(method: StartMethod, data: D): Origin<D> {
    return new Origin(method, data);
  }

  /**
   * The origin a constructor was given as its first argument `arg`, else a new object of the
   * start method of class `ctor` (a context's subclass: its method; otherwise the default).
   */
  static of<D>(arg: unknown, ctor: unknown): Origin<D> {
    return arg instanceof Origin ? arg as Origin<D> : Origin.fresh(methodOf(ctor));
  }

  /**
   * `Origin.of` for a class that takes no arguments (`Lock`, `RLock`, `Event`): any `arg` but an
   * origin is refused, as CPython's `Lock(5)` is.
   */
  static ofNoArguments<D>(arg: unknown, ctor: unknown): Origin<D> {
    if (arg !== undefined && !(arg instanceof Origin)) {
      const name = (ctor as { name?: string }).name || "this class";
      throw new TypeError(`new ${name}() takes no arguments, got ${shown(arg)}`);
    }
    return Origin.of(arg, ctor);
  }
}

/** The start method of objects made by class `ctor`: its context's, else the default. */
export function methodOf(ctor: unknown): StartMethod {
  return (ctor as { [BOUND_METHOD]?: StartMethod })[BOUND_METHOD] ?? getStartMethod();
}

/** Resolves the `context` option (or a context-bound class) to a start method. */
export function methodFrom(
  context: ContextLike | StartMethod | undefined,
  ctor: unknown,
): StartMethod {
  if (context === undefined) return methodOf(ctor);
  if (typeof context === "string") return checkStartMethod(context);
  if (typeof (context as ContextLike)?.getStartMethod === "function") {
    return (context as ContextLike).getStartMethod();
  }
  throw new TypeError(
    `context must be a Context (getContext()) or "thread" or "process", got ${shown(context)}`,
  );
}

/** A class whose objects cross as handles: its `kind` and how a child rebuilds one. */
export interface Kind {
  /** The name handles of this class carry. */
  readonly kind: string;
  /** Rebuilds an object over the memory of a handle. */
  fromHandle(origin: Origin): unknown;
}

/** The key of a handle's kind in an encoded value. */
export const HANDLE_TAG = "__multiproc_handle__";
const kinds = new Map<string, Kind>();

/** Registers `cls` in the table of kinds, so that a child can rebuild its handles. */
export function registerKind(...classes: Kind[]): void {
  for (const cls of classes) kinds.set(cls.kind, cls);
}

/** The registered class of handles of kind `kind`, if this process has loaded it. */
export function kindNamed(kind: string): Kind | undefined {
  return kinds.get(kind);
}

/** Whether `v` crosses to children as a handle. */
export function isShareable(v: unknown): v is Shareable {
  return typeof v === "object" && v !== null && typeof (v as Shareable)[HANDLE] === "function";
}
