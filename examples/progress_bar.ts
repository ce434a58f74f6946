/**
 * A live progress bar over a pool `map`: counts the primes below `--items × --size` by trial
 * division, one slice of numbers per task, and redraws the bar as slices finish (`map`'s
 * `onProgress` option). No dependency: the bar is written to stdout.
 *
 *   deno run -A examples/progress_bar.ts [--items 200] [--size 50000] [--jobs N] [--method M]
 *   bun examples/progress_bar.ts ...
 *   node --import tsx examples/progress_bar.ts ...
 *
 * On a terminal the bar is redrawn in place; piped to a file or a program, a line is printed at
 * every tenth of the work instead. The last line says how many primes, and how long it took.
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { cpuCount, getContext, isMain, type StartMethod } from "../mod.ts";

/** How many primes lie in `[from, from + size)`: trial division, CPU-bound on purpose. */
export function countPrimes(from: number, size: number): number {
  let count = 0;
  for (let n = Math.max(from, 2); n < from + size; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** A bar on one line: `[#########-----------]  45%  90/200  1.2 s`. */
class Bar {
  readonly #total: number;
  readonly #tty: boolean;
  readonly #t0 = performance.now();
  #drawnAt = -Infinity;
  #tenth = -1;

  constructor(total: number, tty: boolean) {
    this.#total = total;
    this.#tty = tty;
  }

  #line(done: number): string {
    const width = 30;
    const filled = Math.round((width * done) / this.#total);
    const percent = Math.floor((100 * done) / this.#total);
    const seconds = ((performance.now() - this.#t0) / 1000).toFixed(1);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}%  `
      + `${done}/${this.#total}  ${seconds} s`;
  }

  /** `done` items of the total are finished. */
  update(done: number): void {
    const last = done === this.#total;
    if (this.#tty) {
      // Redrawn at most every 50 ms (and at the end): a terminal need not see every item.
      if (!last && performance.now() - this.#drawnAt < 50) return;
      this.#drawnAt = performance.now();
      process.stdout.write(`\r${this.#line(done)}\x1b[K${last ? "\n" : ""}`);
    } else {
      const tenth = Math.floor((10 * done) / this.#total);
      if (tenth === this.#tenth) return;
      this.#tenth = tenth;
      process.stdout.write(`${this.#line(done)}\n`);
    }
  }
}

if (isMain(import.meta)) {
  const { values } = parseArgs({
    options: {
      items: { type: "string", default: "200" },
      size: { type: "string", default: "50000" },
      jobs: { type: "string", default: String(cpuCount()) },
      method: { type: "string" },
    },
  });
  const items = Number(values.items), size = Number(values.size);
  const ctx = getContext(values.method as StartMethod | undefined);
  const starts = Array.from({ length: items }, (_, i) => i * size);
  const sizes = starts.map(() => size);
  const bar = new Bar(items, process.stdout.isTTY === true);
  const t0 = performance.now();
  let primes = 0;
  {
    await using pool = new ctx.ProcessPoolExecutor({ maxWorkers: Number(values.jobs) });
    const options = { onProgress: (done: number) => bar.update(done) };
    for await (const n of pool.map(countPrimes, starts, sizes, options)) primes += n;
  }
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  console.log(
    `${primes} primes below ${items * size}, ${items} tasks on ${values.jobs} `
      + `"${ctx.getStartMethod()}" workers in ${seconds} s`,
  );
}
