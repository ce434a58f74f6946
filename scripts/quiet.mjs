// Benchmarks on a machine of 2 cores, where the end of one measure (its processes exiting, a
// redis-server writing) or other work lands in the next: before a measure, wait until the CPUs
// have been idle for a moment, and report how idle they were. Linux (/proc/stat); elsewhere the
// wait is skipped.
import { existsSync, readFileSync } from "node:fs";

/** The machine's idle and total CPU time so far (USER_HZ ticks), from /proc/stat's first line. */
function cpuTimes() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1);
  const ticks = fields.map(Number);
  return { idle: ticks[3] + (ticks[4] ?? 0), total: ticks.reduce((a, b) => a + b, 0) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the CPUs were at least `idle` (a fraction) idle over the last `windowMs`, for at
 * most `maxMs`. Resolves with the idle fraction of the last window (null without /proc/stat).
 */
export async function waitForQuiet({ idle = 0.9, windowMs = 1000, maxMs = 30_000 } = {}) {
  if (!existsSync("/proc/stat")) return null;
  const end = Date.now() + maxMs;
  for (;;) {
    const a = cpuTimes();
    await sleep(windowMs);
    const b = cpuTimes();
    const fraction = (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (fraction >= idle || Date.now() >= end) return fraction;
  }
}

/** Waits as `waitForQuiet` does, and keeps each idle fraction for `summary()`. */
export function quietGate(options) {
  const seen = [];
  return {
    async wait() {
      const fraction = await waitForQuiet(options);
      if (fraction !== null) seen.push(fraction);
    },
    /** "CPUs idle over the second before each measure: 93–100%" ("" if none was measured). */
    summary() {
      if (seen.length === 0) return "";
      const pct = (x) => `${Math.round(x * 100)}%`;
      const lo = Math.min(...seen), hi = Math.max(...seen);
      return `CPUs idle over the second before each measure: ${pct(lo)}–${pct(hi)}`;
    },
  };
}
