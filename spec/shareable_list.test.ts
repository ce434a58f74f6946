/**
 * ShareableList: every slot type, capacities, type changes, bad input; children that take it as
 * a handle or attach by name, and a program that was never handed it, see writes both ways; a
 * child killed mid-write leaves it usable and no segment behind; Python reads what we wrote and
 * we read what Python wrote (CPython's layout), under both start methods.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { getContext, type ShareableItem, ShareableList, SharedMemory } from "../mod.ts";
import { ANSWER, answer, plain, setSlot } from "./fixtures/shareable_list_targets.ts";
import { METHODS, readJson, runScript, tempDir } from "./helpers.ts";

const LONG = { timeout: 60_000 };
const ITEMS: ShareableItem[] = [
  0,
  -5,
  Number.MAX_SAFE_INTEGER,
  2.5,
  -0,
  Infinity,
  1e300,
  2n ** 62n,
  -(2n ** 63n),
  true,
  false,
  null,
  "",
  "héllo, wörld ✓",
  new Uint8Array(0),
  new Uint8Array([1, 2, 255]),
];

for (const method of METHODS) {
  const ctx = getContext(method);

  test(`ShareableList: every slot type round-trips; get, index access, format [${method}]`, () => {
    const list = new ctx.ShareableList(ITEMS);
    try {
      assert.equal(list.length, ITEMS.length);
      assert.deepEqual(plain(list.toArray()), plain(ITEMS));
      assert.deepEqual(plain([...list]), plain(ITEMS));
      assert.ok(Object.is(list[4], -0), "-0 is kept (stored as a double)");
      assert.equal(typeof list[2], "number", "a safe integer reads as a number");
      assert.equal(list.get(-1) instanceof Uint8Array, true);
      assert.deepEqual(list[-1], new Uint8Array([1, 2, 255]));
      assert.equal(list[-3], "héllo, wörld ✓");
      assert.equal(list.format, "qqqddddqqxxxxxxx?xxxxxxx?xxxxxx?x8s24s8s8s");
      assert.equal(list.count(2n ** 62n), 1);
      assert.equal(list.count(-5n), 1, "bigints and numbers compare by value");
      assert.equal(list.count(false), 1, "booleans are not numbers");
      assert.equal(list.index(null), 11);
      assert.deepEqual(list.index(new Uint8Array([1, 2, 255])), 15, "bytes by contents");
      assert.throws(() => list.index("absent"), /ShareableList\.index\(a string of 6 bytes\): not/);
      assert.equal(0 in list, true);
      assert.equal(ITEMS.length in list, false);
      assert.match(
        String(list),
        /^ShareableList\(\[0, -5, .*, 4611686018427387904n, .*\], name='mp_/,
      );
      assert.ok(list.shm instanceof SharedMemory && list.shm.name === list.name);
      const again = new ctx.ShareableList(null, { name: list.name });
      again[1] = 2n ** 60n; // an int64 beyond 2^53 reads back as a bigint
      assert.equal(list[1], 2n ** 60n);
      list.set(1, 2n ** 40n);
      assert.equal(again.get(1), 2 ** 40, "within 2^53 it reads as a number");
      assert.equal(again.length, ITEMS.length);
      again.close();
      assert.throws(() => again[0], /is closed/);
      assert.equal(list[0], 0, "closing one object leaves the others");
      const empty = new ctx.ShareableList([]);
      assert.deepEqual([...empty], []);
      assert.equal(empty.format, "");
      empty.unlink();
    } finally {
      list.unlink();
    }
  });

  test(`ShareableList: a string or bytes slot keeps its capacity [${method}]`, () => {
    const list = new ctx.ShareableList(["abc", "12345678", new Uint8Array(3), 7]);
    try {
      assert.equal(list.format, "8s16s8sq");
      list[0] = "8 bytes!";
      assert.equal(list[0], "8 bytes!");
      assert.throws(
        () => (list[0] = "9 bytes!!"),
        (e) =>
          e instanceof RangeError
          && /ShareableList.set\(0, \.\.\.\): a string of 9 bytes exceeds the slot's storage of 8 bytes/
            .test(e.message)
          && /bytes\/str item exceeds available storage/.test(e.message),
      );
      assert.throws(() => list.set(0, "éééé!"), /a string of 9 bytes exceeds .* 8 bytes/);
      assert.equal(list[0], "8 bytes!", "a refused write changes nothing");
      list[1] = "x".repeat(16);
      assert.throws(() => list.set(-3, "x".repeat(17)), /17 bytes exceeds .* 16 bytes/);
      assert.throws(() => list.set(2, new Uint8Array(9)), /9 bytes exceeds .* storage of 8/);
      list[3] = "ok"; // an 8-byte number slot takes up to 8 bytes of text
      assert.throws(() => list.set(3, new Uint8Array(9)), /exceeds .* storage of 8/);
      list[1] = "short";
      assert.equal(list[1], "short", "a shorter value leaves none of the longer behind");
      list[2] = new Uint8Array([1, 0, 0]);
      assert.deepEqual(list[2], new Uint8Array([1]), "trailing NUL bytes drop, as in CPython");
    } finally {
      list.unlink();
    }
  });

  test(`ShareableList: a slot changes type like CPython's [${method}]`, () => {
    const list = new ctx.ShareableList([1, "a longer string", 0.5]);
    try {
      const seq: [ShareableItem, string][] = [
        ["text", "16s"],
        [null, "xxxxxx?x"],
        [true, "xxxxxxx?"],
        [new Uint8Array([4, 5]), "16s"],
        [1.25, "d"],
        [-(2n ** 62n), "q"],
        [42, "q"],
      ];
      for (const [v, format] of seq) {
        list[1] = v;
        assert.deepEqual(plain([list[1]]), plain([v]));
        assert.equal(list.format, `q${format}d`);
      }
      list[0] = "8 chars!"; // a number's slot: 8 bytes
      assert.equal(list.format, "8sqd");
      assert.equal(list[0], "8 chars!");
      list[2] = false;
      assert.equal(list[2], false);
    } finally {
      list.unlink();
    }
  });

  test(`ShareableList: bad values, indices and names get clear errors [${method}]`, async () => {
    const cases: [unknown, RegExp][] = [
      [
        () => 1,
        /item 1: a slot holds a number, bigint, boolean, string, Uint8Array or null, got a function/,
      ],
      [{ a: 1 }, /item 1: .* got an object \(Object\)/],
      [[1], /got an object \(Array\)/],
      [undefined, /got undefined; use null for an empty slot/],
      [Symbol("s"), /got a symbol/],
      [new Int32Array(2), /got an object \(Int32Array\); wrap it in a Uint8Array/],
      [2n ** 63n, /9223372036854775808n does not fit a 64-bit signed slot/],
      ["x".repeat(10_000_000), /item 1 is a string of 10000000 bytes, more than a slot holds/],
    ];
    for (const [v, re] of cases) {
      assert.throws(() => new ctx.ShareableList([0, v as ShareableItem]), re);
    }
    assert.throws(() => new ctx.ShareableList("mp_x" as never), /not a string; to attach by name/);
    assert.throws(() => new ctx.ShareableList(5 as never), /give an iterable of values/);
    assert.throws(() => new ctx.ShareableList([], "n" as never), /options must be an object/);
    assert.throws(
      () => new ctx.ShareableList(null, { name: "a/b" }),
      /name must be 1 to 200 characters without '\/'/,
    );
    assert.throws(
      () => new ctx.ShareableList(null, { name: `mp_absent_${Date.now()}` }),
      /no segment of that name exists/,
    );
    // An unknown option was ignored: { Name } made a new list instead of attaching.
    assert.throws(
      () => new ctx.ShareableList(null, { Name: "mp_x" } as never),
      /^TypeError: new ShareableList\(\): unknown option 'Name' \(did you mean 'name'\?\)$/,
    );
    const shm = new ctx.SharedMemory({ create: true, size: 64 });
    new DataView(shm.buf.buffer, shm.buf.byteOffset).setBigInt64(0, 1000n, true);
    try {
      assert.throws(
        () => new ctx.ShareableList(null, { name: shm.name }),
        /\{ name: 'mp_\w+' \}\): that segment does not hold a ShareableList \(its length word says 1000\)/,
      );
    } finally {
      shm.unlink();
    }
    const list = new ctx.ShareableList([1, "two", 3]);
    try {
      assert.throws(() => list[3], /ShareableList\.get\(3\): index out of range \(length 3\)/);
      assert.throws(() => list.get(-4), /get\(-4\): index out of range \(length 3\)/);
      assert.throws(() => list.set(1.5, 0), /set\(1\.5\): index out of range/);
      assert.throws(() => list.get(NaN), /get\(NaN\): index out of range/);
      assert.throws(
        () => list.get("1" as never),
        /^TypeError: ShareableList\.get\("1" \(a string\)\): an index must be a number$/,
      );
      // It said "get(1): index out of range (length 3)".
      assert.throws(() => list.get(1n as never), /get\(1n \(a bigint\)\): .* with Number\(\)$/);
      assert.throws(
        () => list.set(0, {} as never),
        /ShareableList\.set\(0, \.\.\.\): a slot holds/,
      );
      assert.throws(() => (list[1] = (() => 0) as never), /got a function/);
      assert.equal(list[1], "two");
      // A length set wrote the next item's format over another slot's data.
      assert.throws(
        () => ((list as { length: number }).length = 1),
        /^TypeError: ShareableList\.length is read-only: the length is fixed when it is made/,
      );
      assert.throws(
        () => list[0.5],
        /^TypeError: ShareableList\[0\.5\]: an index must be an integer/,
      );
      list[0] = 5;
      assert.deepEqual([list.length, list.toArray(), list.format], [3, [5, "two", 3], "q8sq"]);
      // A named segment under both methods: a child of the other method attaches it too (it
      // was refused: "made for the ... start method").
      const other = getContext(method === "thread" ? "process" : "thread");
      const p = new other.Process({ target: setSlot, args: [list, 2, 33] });
      await p.start();
      await p.join();
      assert.equal(p.exitCode, 0);
      assert.equal(list[2], 33, "the other method's child wrote to the same list");
    } finally {
      list.unlink();
    }
  });

  for (const how of ["as a handle", "by name"] as const) {
    test(
      `ShareableList: a child that takes it ${how} sees writes both ways [${method}]`,
      LONG,
      async () => {
        const list = new ctx.ShareableList(["wait", 1, 2, "bytes!", true, 0.5, 7]);
        const out = join(tempDir(), "seen.json");
        try {
          const p = new ctx.Process({
            target: answer,
            args: [how === "by name" ? list.name : list, out],
          });
          await p.start();
          list[1] = 2n ** 61n; // written after the child attached: it sees it live
          list[0] = "go";
          const end = Date.now() + 20_000;
          while (list[0] !== "done" && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
          await p.join();
          assert.equal(p.exitCode, 0);
          assert.deepEqual(readJson(out), {
            seen: ["go", `${2n ** 61n}n`, 2, "bytes!", true, 0.5, 7],
            format: "8sqq8sxxxxxxx?dq",
          });
          assert.deepEqual(plain(list.toArray()), plain(ANSWER));
        } finally {
          list.unlink();
        }
      },
    );
  }

  test(`ShareableList: a program never handed it attaches by name [${method}]`, LONG, async () => {
    const list = new ctx.ShareableList(["here", 1.5, null, 3]);
    const out = join(tempDir(), "afar.json");
    try {
      const r = await runScript("../shareable_list_targets.ts", ["attach", list.name, out]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readJson(out), { seen: ["here", 1.5, null, 3], format: "8sdxxxxxx?xq" });
      assert.deepEqual(list.toArray(), ["afar!", 1.5, null, 2n ** 60n]);
      assert.ok(existsSync(`/dev/shm/${list.name}`), "a program that attached unlinks nothing");
    } finally {
      list.unlink();
    }
  });

  for (const how of ["kill", "child-made"] as const) {
    const who = how === "kill" ? "the parent" : "the child";
    test(
      `ShareableList: a child killed mid-write (made by ${who}): usable, no segment left [${method}]`,
      LONG,
      async () => {
        const r = await runScript("../shareable_list_targets.ts", [how, method], 50_000);
        assert.equal(r.code, 0, r.stderr);
        const name = /^list (\S+)$/m.exec(r.stdout)?.[1];
        assert.ok(name, r.stdout + r.stderr);
        const report = JSON.parse(r.stdout.trim().split("\n").pop()!);
        assert.equal(report.exitCode, -9);
        assert.ok(report.rounds >= 3, `the child wrote ${report.rounds} rounds only`);
        assert.ok(report.torn <= 1, `${report.torn} slots torn by one SIGKILL`);
        assert.deepEqual(report.back, [
          "after",
          1,
          `${2n ** 60n}n`,
          { bytes: [1] },
          true,
          null,
          99,
        ]);
        assert.equal(existsSync(`/dev/shm/${name}`), false, `${name} was left behind`);
      },
    );
  }
}

const PY = `
import json, sys
from multiprocessing import resource_tracker, shared_memory
sl = shared_memory.ShareableList(name=sys.argv[1])
resource_tracker.unregister(sl.shm._name, "shared_memory")  # attaching must not unlink at exit
seen = [list(v) if isinstance(v, bytes) else v for v in sl]
fmt = sl.format
sl[0] = "py!"; sl[1] = 2 ** 60; sl[2] = b"\\x07"; sl[3] = None; sl[4] = 0.5
made = shared_memory.ShareableList([True, -3, "né", b"ab", None, 1.5])
resource_tracker.unregister(made.shm._name, "shared_memory")
print(json.dumps({"seen": seen, "format": fmt, "made": made.shm.name}))
sl.shm.close(); made.shm.close()
`;

const python = spawnSync("python3", ["-c", "from multiprocessing import shared_memory"]);
const noPython = python.status === 0
  ? false
  : "python3 with multiprocessing.shared_memory is not installed";

test("ShareableList: CPython reads what we wrote, and we what it wrote", {
  ...LONG,
  skip: noPython,
}, () => {
  const list = new ShareableList([1, "text", new Uint8Array([1, 2]), true, -2.5]);
  let made: ShareableList | undefined;
  try {
    const r = spawnSync("python3", ["-c", PY, list.name], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.seen, [1, "text", [1, 2], true, -2.5]);
    assert.equal(got.format, "q8s8sxxxxxxx?d");
    assert.deepEqual(plain(list.toArray()), [
      "py!",
      `${2n ** 60n}n`,
      { bytes: [7] },
      null,
      0.5,
    ]);
    made = new ShareableList(null, { name: got.made });
    assert.deepEqual(plain(made.toArray()), [true, -3, "né", { bytes: [97, 98] }, null, 1.5]);
    assert.equal(made.format, "xxxxxxx?q8s8sxxxxxx?xd");
  } finally {
    list.unlink();
    made?.unlink();
  }
});

test("ShareableList: past the tracker's limit, the error is the list's", () => {
  const made: ShareableList[] = [];
  try {
    // It said "SharedMemory: ... pass track: false", an option ShareableList does not take.
    assert.throws(
      () => {
        for (;;) made.push(new ShareableList([made.length]));
      },
      /^RangeError: new ShareableList\(\): \d+ named segments are alive already \(lists, SharedMemory, large queue messages not yet read\); unlink\(\) the lists no longer needed$/,
    );
    made.pop()!.unlink();
    made.push(new ShareableList(["one place back"]));
  } finally {
    for (const list of made) list.unlink();
  }
});
