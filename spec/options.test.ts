/**
 * Options objects as bad input (src/core/options.ts): a name a call does not take is a
 * `TypeError` at the call, never ignored -- with the name meant when it differs in case or
 * underscores, or is Python's (`max_workers`, `chunkSize`, `mp_context`) --, options that are not
 * an object say what to pass, and CPython's start method names say what to use here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Barrier,
  BaseManager,
  ClusterExecutor,
  getContext,
  Lock,
  Pool,
  Process,
  ProcessPoolExecutor,
  Queue,
  Semaphore,
  setStartMethod,
  SharedArray,
  SharedMemory,
  Value,
} from "../mod.ts";
import { twice } from "./fixtures/pool_targets.ts";
import { unmarked } from "./fixtures/targets.ts";

/** Asserts that `fn` throws a `TypeError` whose message starts with `start` and matches `rest`. */
function refuses(fn: () => unknown, start: string, rest: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof TypeError, `${start}: ${e}`);
    assert.ok(e.message.startsWith(start), e.message);
    assert.match(e.message, rest);
    return true;
  });
}

test("an unknown option is refused at the call, with the name meant", async () => {
  class Things extends BaseManager {}
  const redis = { connection: "redis://127.0.0.1:1", queue: "q", root: "." };
  const cases: [() => unknown, string, RegExp][] = [
    [
      () => new ProcessPoolExecutor({ max_workers: 2 } as never),
      "ProcessPoolExecutor: unknown option 'max_workers'",
      /\(did you mean 'maxWorkers'\?\)$/,
    ],
    [
      () => new ProcessPoolExecutor({ mp_context: "thread" } as never),
      "ProcessPoolExecutor: unknown option 'mp_context'",
      /\(did you mean 'context'\?\)$/,
    ],
    [
      () => new ProcessPoolExecutor({ maxTasksPerchild: 3 } as never),
      "ProcessPoolExecutor: unknown option 'maxTasksPerchild'",
      /\(did you mean 'maxTasksPerChild'\?\)$/,
    ],
    [
      () => new Pool({ max_tasks_per_child: 3 } as never),
      "Pool: unknown option 'max_tasks_per_child'",
      /\(did you mean 'maxTasksPerChild'\?\)$/,
    ],
    [
      () => new Process({ target: unmarked, kwargs: {} } as never),
      "new Process(): unknown option 'kwargs'",
      /: it takes 'target', 'args', 'name', 'daemon', 'module'$/,
    ],
    [
      () => new Value("i", 0, { locked: false } as never),
      "Value: unknown option 'locked'",
      /: it takes 'lock'$/,
    ],
    [
      () => new SharedArray("d", 3, { Lock: false } as never),
      "SharedArray: unknown option 'Lock'",
      /\(did you mean 'lock'\?\)$/,
    ],
    [
      () => new SharedMemory({ create: true, length: 10 } as never),
      "SharedMemory: unknown option 'length'",
      /: it takes 'name', 'create', 'size', 'track'$/,
    ],
    [
      () => new Barrier(2, { timeoutMs: 10 } as never),
      "Barrier: unknown option 'timeoutMs'",
      /: it takes 'action', 'timeout'$/,
    ],
    [
      () => new Things({ authKey: "k" } as never),
      "new Things(): unknown option 'authKey'",
      /\(did you mean 'authkey'\?\)$/,
    ],
    [
      () => Things.register("Thing", Object, { expose: ["get"] } as never),
      "Things.register(\"Thing\"): unknown option 'expose'",
      /: it takes 'exposed', 'module'$/,
    ],
    [
      () => new ClusterExecutor({ ...redis, max_waiting: 10 } as never),
      "ClusterExecutor: unknown option 'max_waiting'",
      /\(did you mean 'maxWaiting'\?\)$/,
    ],
  ];
  for (const [make, start, rest] of cases) refuses(make, start, rest);

  // Per call: map's and run()'s options; nothing was submitted by the refused calls.
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1, context: "thread" });
  refuses(
    () => pool.map(twice, [1, 2], { chunkSize: 100 } as never),
    "ProcessPoolExecutor.map(): unknown option 'chunkSize'",
    /\(did you mean 'chunksize'\?\)$/,
  );
  refuses(
    () => pool.run(twice, [1], { timeOut: 5 } as never),
    "ProcessPoolExecutor.run(): unknown option 'timeOut'",
    /\(did you mean 'timeout'\?\)$/,
  );
  const old = new Pool({ processes: 1, context: "thread" });
  try {
    refuses(
      () => old.imap(twice, [1, 2], { chunk_size: 3 } as never),
      "Pool.imap(): unknown option 'chunk_size'",
      /\(did you mean 'chunksize'\?\)$/,
    );
    // Python's apply_async(f, args, callback=..., error_callback=...): what to write instead.
    for (const name of ["callback", "error_callback", "errorCallback"]) {
      refuses(
        () => old.applyAsync(twice, [1], { [name]: () => {} } as never),
        `Pool.applyAsync(): unknown option '${name}'`,
        /: it takes 'signal', 'timeout'; instead of Python's callbacks, chain on what the call returns: \.then\(callback, errorCallback\)/,
      );
    }
  } finally {
    await old.terminate();
  }
});

test("per-call options of locks and queues are checked at every call, not only on waits", () => {
  const lock = new Lock();
  refuses(
    () => lock.acquire({ block: false } as never),
    "Lock.acquire(): unknown option 'block'",
    /\(did you mean 'blocking'\?\)$/,
  );
  assert.equal(lock.locked(), false, "the refused call took nothing");
  const sem = new Semaphore(1);
  refuses(
    () => sem.acquire({ timeOut: 5 } as never),
    "Semaphore.acquire(): unknown option 'timeOut'",
    /\(did you mean 'timeout'\?\)$/,
  );
  assert.equal(sem.getValue(), 1);
  const q = new Queue<number>();
  // Room to put, an item to get: the typo is refused all the same.
  refuses(
    () => q.put(1, { timeOut: 5 } as never),
    "Queue.put(): unknown option 'timeOut'",
    /\(did you mean 'timeout'\?\)$/,
  );
  q.put(1);
  refuses(
    () => q.get({ blocking: false } as never),
    "Queue.get(): unknown option 'blocking'",
    /\(did you mean 'block'\?\)$/,
  );
  assert.equal(q.get({ block: false }), 1, "the refused get took nothing");
  q.close();
});

test("options that are not an object say what to pass; undefined values pass", async () => {
  refuses(
    () => new ProcessPoolExecutor(4 as never),
    "ProcessPoolExecutor: options must be an object such as { maxWorkers: 4 }",
    /, got 4$/,
  );
  refuses(
    () => new Pool(4 as never),
    "Pool: options must be an object such as { processes: 4 }",
    /, got 4$/,
  );
  refuses(
    () => new Value("i", 0, false as never),
    "Value: options must be an object such as { lock: false }",
    /, got false \(a boolean\)$/,
  );
  refuses(
    () => new Process(null as never),
    "new Process(): options must be an object",
    /, got null$/,
  );
  refuses(
    () => new Process({ target: unmarked, name: 5 } as never),
    "new Process(): name must be a string",
    /, got 5$/,
  );
  refuses(
    () => new Process({ target: unmarked, daemon: "yes" } as never),
    "Process 'Process-",
    /: daemon must be true or false, got "yes" \(a string\)$/,
  );
  const p = new Process({ target: unmarked, name: "P" });
  refuses(() => (p.daemon = 1 as never), "Process 'P': daemon must be", /got 1$/);
  refuses(
    () => new Queue({ maxsize: 10 } as never),
    "Queue(maxsize): maxsize must be an integer >= 0, the argument itself, not in an object (new Queue(10)",
    /, got an object$/,
  );
  // A spread of optional settings may hold names set to undefined.
  const settings: Record<string, unknown> = { maxWorkers: 1, context: "thread", extra: undefined };
  await using pool = new ProcessPoolExecutor(settings);
  assert.equal(await pool.submit(twice, 4), 8);
});

test("CPython's start methods are refused with the one to use here", () => {
  refuses(
    () => getContext("spawn" as never),
    "Unknown start method \"spawn\"",
    /CPython's "spawn" is "process" here: a fresh runtime per child\.$/,
  );
  refuses(
    () => setStartMethod("fork" as never),
    "Unknown start method \"fork\"",
    /cannot fork: "forkserver" starts children as fast/,
  );
  refuses(
    () => new ProcessPoolExecutor({ context: "fork" as never }),
    "Unknown start method \"fork\"",
    /"thread" runs them in this process\.$/,
  );
});
