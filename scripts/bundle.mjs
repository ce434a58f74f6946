// The package's JavaScript bundle (used by scripts/build.mjs for dist/, and by the spec to lay a
// bundle out like the package's): one bundle split into shared chunks (a child loads a handful
// of files, not the ~70 modules of the source: tens of milliseconds less start-up per child),
// with entry files for the main module, the three child entry scripts and the pool worker side
// by side.
import { build } from "esbuild";
import { join } from "node:path";

/** Bundles the library at `root` into `outdir`; `sourcemap` as the package ships it. */
export async function bundle(root, outdir, { sourcemap = true } = {}) {
  await build({
    entryPoints: {
      "mod": join(root, "mod.ts"),
      "os_process-entry": join(root, "src/entry/os_process.ts"),
      "worker_thread-entry": join(root, "src/entry/worker_thread.ts"),
      "web_worker-entry": join(root, "src/entry/web_worker.ts"),
      "pool-worker": join(root, "src/pool/worker.ts"),
      "cluster-runner": join(root, "src/cluster/runner.ts"),
      "manager-server": join(root, "src/manager/server.ts"),
      "cli": join(root, "src/entry/cli.ts"),
    },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "es2022",
    // Loaded only on their runtime, from the user's installation.
    external: ["koffi", "bun:ffi", "bullmq", "ioredis", "msgpackr"],
    // src/runtime/entry_url.ts: the entry files are in the same directory as every chunk.
    define: { MULTIPROC_BUNDLED: "true" },
    chunkNames: "chunk-[hash]",
    sourcemap,
    logLevel: "warning",
  });
}
