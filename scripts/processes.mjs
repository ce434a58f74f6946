// Processes for the cluster bench: a redis-server on a free loopback port, children started with
// their output to a log and stopped (SIGTERM, then SIGKILL), and their CPU time from /proc.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";

export { freePort } from "./free_port.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a Redis on `port` answers PING. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}

/** Starts `argv` detached from the terminal with stdout and stderr to `log`. */
export function start(argv, log, env = process.env) {
  const fd = openSync(log, "w");
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  child.log = log;
  child.exited = new Promise((resolve) => child.once("exit", resolve));
  child.once("error", () => {});
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once `child` has exited. */
export async function stop(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const exited = await Promise.race([child.exited.then(() => true), sleep(graceMs)]);
  if (!exited) {
    console.log(`pid ${child.pid} (${child.log}) did not exit on SIGTERM: SIGKILL`);
    child.kill("SIGKILL");
    await child.exited;
  }
}

/** CPU seconds (user + system) of `pid` and its live descendants, from /proc. */
export function cpuSeconds(pid) {
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  let own = 0;
  let children = 0;
  const walk = (p, depth) => {
    const s = stats.get(p);
    if (!s) return;
    if (depth === 0) own += s.ticks;
    else children += s.ticks;
    for (const [q, t] of stats) if (t.ppid === p) walk(q, depth + 1);
  };
  walk(pid, 0);
  return { own: own / 100, children: children / 100 }; // USER_HZ is 100 on Linux
}

/**
 * A redis-server on 127.0.0.1:`port` with its files in `dir` and no persistence, once it answers
 * PING (its output in `dir`/redis.log).
 */
export async function startRedis(port, dir) {
  const argv = ["redis-server", "--port", String(port), "--bind", "127.0.0.1"];
  argv.push("--save", "", "--appendonly", "no", "--dir", dir);
  const redis = start(argv, join(dir, "redis.log"));
  for (let i = 0; !(await ping(port)); i++) {
    if (i > 100 || redis.exitCode !== null) {
      await stop(redis);
      throw new Error(`redis-server did not start: ${readFileSync(redis.log, "utf8")}`);
    }
    await sleep(50);
  }
  return redis;
}
