/**
 * A client program of the refusals spec: `closure_client.ts URL QUEUE` submits, from its own
 * module while it still evaluates, a closure, a function it does not export, and one it exports,
 * and prints their outcomes as JSON ("error: <name>: <message>" for a failure).
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ClusterExecutor, isMain } from "../../mod.ts";

function notExported(x: number): number {
  return x + 1;
}

/** Exported: the worker confirms it (this module is still evaluating when it is submitted). */
export function exportedHere(x: number): number {
  return x * 10;
}

if (isMain(import.meta)) {
  const [connection, queue] = process.argv.slice(-2);
  const root = fileURLToPath(new URL("../..", import.meta.url));
  await using executor = new ClusterExecutor({ connection, queue, root });
  const futures = [
    executor.submit((x: number) => x, 1),
    executor.submit(notExported, 2),
    executor.submit(exportedHere, 3),
  ];
  const outcomes = await Promise.allSettled(futures);
  console.log(JSON.stringify(outcomes.map((o) =>
    o.status === "fulfilled"
      ? o.value
      : `error: ${(o.reason as Error).name}: ${(o.reason as Error).message}`
  )));
}
