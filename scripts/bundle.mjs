// The package's JavaScript bundle (used by scripts/build.mjs for dist/, and by the spec to lay a
// bundle out like the package's): one bundle whose code sits in one shared chunk (a child loads
// a handful of files, not the ~70 modules of the source: tens of milliseconds less start-up per
// child), with entry files for the main module, the three child entry scripts, the pool worker,
// the cluster runner, the manager server and the CLI side by side.
import { build } from "esbuild";
import { join } from "node:path";

/** Bundles the library at `root` into `outdir`; `sourcemap` as the package ships it. */
export async function bundle(root, outdir, { sourcemap = true } = {}) {
  const entries = {
    "os_process-entry": "src/entry/os_process.ts",
    "worker_thread-entry": "src/entry/worker_thread.ts",
    "web_worker-entry": "src/entry/web_worker.ts",
    "pool-worker": "src/pool/worker.ts",
    "cluster-runner": "src/cluster/runner.ts",
    "manager-server": "src/manager/server.ts",
  };
  await build({
    // Every entry also imports the main module: so the library's code sits in one shared chunk
    // (and the few a dynamic import loads), not in a chunk per set of entries reaching it. A
    // child that imports the library (as a child of any program that uses it does) loads 15
    // files through 47 imports instead of 24 through 79. Measured on Node 20: the library's
    // import in a child 15 ms instead of 23, its resident memory 45.7 MB instead of 50.3 (the
    // module loader's own hot paths are no longer optimized by TurboFan).
    entryPoints: {
      "mod": "entry:mod",
      ...Object.fromEntries(Object.keys(entries).map((name) => [name, `entry:${name}`])),
      // The command keeps its own first line (`#!/usr/bin/env node`), which a wrapper would lose.
      "cli": join(root, "src/entry/cli.ts"),
    },
    plugins: [{
      name: "entries",
      setup(b) {
        b.onResolve({ filter: /^entry:/ }, (args) => ({ path: args.path, namespace: "entry" }));
        b.onLoad({ filter: /.*/, namespace: "entry" }, (args) => {
          const name = args.path.slice("entry:".length);
          if (name === "mod") {
            // The package's main module: the library, and what makes a child of a single-file
            // executable that bundles it (`bun build --compile`; src/entry/frozen.ts), which
            // mod.ts leaves out: Deno, which imports mod.ts, has no such executable to support
            // here, and would load the modules it reaches in every process.
            return {
              contents: `export * from ${JSON.stringify(join(root, "mod.ts"))};\n`
                + `import ${JSON.stringify(join(root, "src/entry/frozen.ts"))};\n`,
              loader: "ts",
              resolveDir: root,
            };
          }
          const file = join(root, entries[name]);
          return {
            // The entry's code runs after the library's (none of which awaits at its top
            // level: a Web Worker child's listener is installed before any message can come).
            contents: `export * from ${JSON.stringify(file)};\n`
              + `import ${JSON.stringify(join(root, "mod.ts"))};\n`,
            loader: "ts",
            resolveDir: root,
          };
        });
      },
    }],
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
