/**
 * A module that submits its own anonymous `task()` while it evaluates (top-level await), through
 * the executor the spec leaves on `globalThis` (a worker's child, which imports it too, has none).
 */
import { type ClusterExecutor, task } from "../../mod.ts";

export const increment = task(import.meta, (x: number) => x + 1);

const cluster = (globalThis as { specCluster?: ClusterExecutor }).specCluster;
/** `increment(41)`, run on the cluster while this module evaluated. */
export const answer = cluster ? await cluster.submit(increment, 41) : undefined;
