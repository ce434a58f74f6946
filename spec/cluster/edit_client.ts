/**
 * A client program of the edit spec: `edit_client.ts URL QUEUE MODULE EXPORT COUNT` submits the
 * export of MODULE (a path under the repository) COUNT times and prints the outcomes as JSON.
 */
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ClusterExecutor, isMain } from "../../mod.ts";

if (isMain(import.meta)) {
  const [connection, queue, module, name, count] = process.argv.slice(-5);
  const root = fileURLToPath(new URL("../..", import.meta.url));
  const ns = await import(pathToFileURL(module).href) as Record<string, () => unknown>;
  await using executor = new ClusterExecutor({ connection, queue, root });
  const outcomes = await Promise.allSettled(
    Array.from({ length: Number(count) }, () => executor.submit(ns[name])),
  );
  console.log(
    JSON.stringify(
      outcomes.map((o) =>
        o.status === "fulfilled" ? o.value : `error: ${(o.reason as Error).message}`
      ),
    ),
  );
}
