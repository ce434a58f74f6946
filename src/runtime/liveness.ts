/**
 * Whether a process is alive, from `/proc/<pid>/stat` (Linux): a process that is gone, or a
 * zombie not yet reaped by its parent (a parent blocked in a wait reaps nothing), is dead.
 * @module
 */
import { readTextFile } from "./host.ts";

/**
 * Whether process `pid` runs. True when it cannot be told (no `/proc`, no permission to read
 * it): the caller then waits as before rather than take a live owner's lock.
 */
export function pidAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readTextFile(`/proc/${pid}/stat`);
  } catch (error) {
    return (error as { code?: string; name?: string }).code !== "ENOENT"
      && (error as { name?: string }).name !== "NotFound";
  }
  // "pid (comm) S ...": the state follows the last ')' (comm may hold parentheses).
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state !== "Z" && state !== "X" && state !== "x";
}
