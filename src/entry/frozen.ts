/**
 * A child of a single-file executable (src/runtime/standalone.ts): the executable started again,
 * its kind in the environment. The library, evaluated as the program's main module is, becomes
 * the child here, at import: it waits for its boot as an entry script's child does, while the
 * main module's evaluation goes on as a child's import of it (`isMain()` false; a child started
 * meanwhile is refused, CPython's bootstrapping phase), and finds the library's own targets --
 * the pool worker, a manager's server, the cluster's runner -- in the executable, not at their
 * URLs beside it. Imported by the package's main module (scripts/bundle.mjs), which such an
 * executable bundles; not by mod.ts, which Deno imports (no executable of Deno's is supported).
 * @module
 */
import { clusterRunnerUrl, managerServerUrl, poolWorkerUrl } from "../runtime/entry_url.ts";
import { importModule, provideModule } from "../runtime/load.ts";
import { processParentChannel } from "../runtime/parent_channel.ts";
import { workerParentChannel } from "../runtime/parent_channel_worker.ts";
import { type FrozenKind, standaloneMain, takeFrozenKind } from "../runtime/standalone.ts";
import { whileBootstrapping } from "../state/state.ts";
import { bootstrap } from "./bootstrap.ts";

type Namespace = Record<string, unknown>;

const main = standaloneMain();
if (main !== null) {
  // Looked up by the program (which checks a target before it starts a child) and its children.
  provideModule(poolWorkerUrl(), () => import("../pool/worker.ts") as Promise<Namespace>);
  provideModule(managerServerUrl(), () => import("../manager/server.ts") as Promise<Namespace>);
  provideModule(clusterRunnerUrl(), () => import("../cluster/runner.ts") as Promise<Namespace>);
  const kind = takeFrozenKind();
  if (kind !== null) becomeChild(kind, main);
}

function becomeChild(kind: FrozenKind, main: string): void {
  // Settles once the main module has been evaluated (a failure there ends this process).
  whileBootstrapping(main, () => importModule(main)).catch(() => {});
  bootstrap(kind === "process" ? processParentChannel() : workerParentChannel());
}
