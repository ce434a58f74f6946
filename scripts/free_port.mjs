/* @ts-self-types="./free_port.d.mts" */
// A free TCP port on the loopback interface: for the cluster bench's redis-server and the cluster
// spec's (plain JavaScript, so that the bench scripts run it on any Node without a loader).
import { createServer } from "node:net";

/** A TCP port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
