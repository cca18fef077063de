import { connect, createServer, type Server, type Socket } from "node:net";

export interface RoundRobinProxy {
  host: string;
  close(): Promise<void>;
}

/**
 * One address in front of several servers (`host:port` each): each new connection goes to the next one in turn,
 * and to the one after when it refuses (a dead node), like a load balancer with passive health checks.
 */
export async function startRoundRobinProxy(upstreams: string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.pause();
    const attempt = (tried: number) => {
      const [host, port] = upstreams[(next + tried) % upstreams.length].split(":");
      const upstream = connect(Number(port), host);
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        next = (next + tried + 1) % upstreams.length;
        sockets.add(upstream);
        upstream.once("close", () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on("error", () => client.destroy());
        client.on("error", () => upstream.destroy());
      });
      upstream.once("error", () => {
        if (!connected && tried + 1 < upstreams.length) attempt(tried + 1);
        else client.destroy();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
