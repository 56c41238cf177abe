/**
 * A link to the centre that a test can cut and restore: a TCP proxy on 127.0.0.1. `cut()` stops listening and
 * destroys every open connection (the agent sees refused/reset, as when a store's line drops); `restore()` listens
 * again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type TestLink = { url: string; port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void>; up: boolean };

export async function startLink(targetPort: number): Promise<TestLink> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = createConnection(targetPort, '127.0.0.1');
        sockets.add(client);
        sockets.add(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  await listen();
  const link: TestLink = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    up: true,
    async cut() {
      const s = server;
      server = null;
      link.up = false;
      for (const x of sockets) x.destroy();
      sockets.clear();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async restore() {
      if (server) return;
      await listen();
      link.up = true;
    },
    async close() {
      await link.cut();
    },
  };
  return link;
}
