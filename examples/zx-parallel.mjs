#!/usr/bin/env zx
// Shell work in parallel from a zx script: every file named on the command line (or every file
// under a directory) is compressed with `gzip -9` by a pool of workers, and a line is printed as
// each one completes. Run it with the zx command:
//
//   zx examples/zx-parallel.mjs [--jobs N] [--method process|thread] <files or directories...>
//
// The pool's children import this script to find `compress` (isMain keeps them from running the
// main code below), so it imports `$` and `argv` from "zx" instead of using zx's globals.
import { asCompleted, currentProcess, getContext, isMain, task } from "multiproc";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { $, argv, chalk } from "zx";

/** Sizes of `file` before and after `gzip -9`, measured by the shell; and who did it. */
export const compress = task(import.meta, async (file) => {
  const t0 = performance.now();
  const [before, after] = await Promise.all([
    $`wc -c < ${file}`.quiet(),
    $`gzip -9 -c ${file} | wc -c`.quiet(),
  ]);
  return {
    file,
    before: Number(before.stdout.trim()),
    after: Number(after.stdout.trim()),
    ms: performance.now() - t0,
    worker: currentProcess().name,
  };
});

/** Every regular file named, directories walked. */
async function filesOf(paths) {
  const files = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) files.push(join(entry.parentPath ?? entry.path, entry.name));
      }
    } else files.push(path);
  }
  return files.sort();
}

const kB = (n) => `${(n / 1024).toFixed(1)} kB`;

if (isMain(import.meta)) {
  const files = await filesOf(argv._.length ? argv._.map(String) : ["."]);
  const ctx = getContext(argv.method);
  const pool = new ctx.ProcessPoolExecutor({ maxWorkers: Number(argv.jobs) || undefined });
  const t0 = performance.now();
  const futures = files.map((file) => pool.submit(compress, file));
  let done = 0, before = 0, after = 0;
  // Node 20 has no `await using`: shut the pool down in `finally` (it waits for the workers).
  try {
    for await (const future of asCompleted(futures)) {
      const r = await future.result();
      done++;
      before += r.before;
      after += r.after;
      const ratio = r.before ? Math.round((100 * r.after) / r.before) : 100;
      console.log(
        `${chalk.dim(`[${done}/${files.length}]`)} ${r.file}: ${kB(r.before)} → ${kB(r.after)} `
          + `(${ratio}%) in ${r.ms.toFixed(0)} ms by ${r.worker}`,
      );
    }
  } finally {
    await pool.shutdown();
  }
  const s = ((performance.now() - t0) / 1000).toFixed(2);
  console.log(`${files.length} files: ${kB(before)} → ${kB(after)} in ${s} s`);
}
