/**
 * "process" children that end with their parent, even while busy. A child watches its parent
 * from its event loop (host.ts `parentGone`, every 250 ms, and in its blocking waits), which
 * cannot run while the child computes in a synchronous loop: a CPU-bound task whose parent was
 * SIGKILLed would run on, an orphan. On Linux the kernel can see to it instead: a child started
 * through util-linux's `setpriv --pdeathsig TERM` (which sets `PR_SET_PDEATHSIG`, then runs the
 * child in its own place: same pid, same pipes) gets a SIGTERM when the thread that started it
 * ends. A child with no handler for it (a busy one included) ends at once; one that has files to
 * remove (its Unix sockets, socket.ts) removes them first. Where `setpriv` is missing (not Linux,
 * a minimal image) or may not be run (Deno without `--allow-run` for it), children start as
 * before, with only their own watch.
 * @module
 */
import { mayRun } from "./host.ts";

const CANDIDATES = ["/usr/bin/setpriv", "/bin/setpriv"];

let prefix: string[] | undefined;

/**
 * The command to put before a child's own (`[setpriv, --pdeathsig, TERM, --]`), or `[]` where
 * the kernel cannot be asked. Looked up once per process.
 */
export function deathSignalPrefix(): string[] {
  return prefix ??= find();
}

function find(): string[] {
  const path = CANDIDATES.find(mayRun);
  return path ? [path, "--pdeathsig", "TERM", "--"] : [];
}
