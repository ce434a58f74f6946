/**
 * A client program of the lifecycle spec: `shutdown_client.ts URL MODE` makes an executor and
 * shuts it down before any task ran -- at once (`now`), by `await using` (`using`), or after its
 * only submit() threw (`threw`) -- then prints "done". The spec checks that the program exits.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ClusterExecutor, isMain } from "../../mod.ts";

/** Makes the executor and leaves it as MODE says. */
async function leave(connection: string, mode: string): Promise<void> {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  if (mode === "using") {
    await using _ = new ClusterExecutor({ connection, queue: "lifecycle", root });
    return;
  }
  const executor = new ClusterExecutor({ connection, queue: "lifecycle", root });
  if (mode === "threw") {
    try {
      executor.submit(42 as unknown as () => void);
    } catch {
      // refused in the caller: no task pending
    }
  }
  await executor.shutdown();
}

if (isMain(import.meta)) {
  const [connection, mode] = process.argv.slice(-2);
  await leave(connection, mode);
  console.log("done");
}
