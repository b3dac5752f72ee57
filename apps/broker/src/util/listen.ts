import type { Server } from 'node:net';

/** Starts `server` on `port` (0: a free one) and `host` (all interfaces, IPv4 and IPv6, by default); resolves with the bound port. */
export async function listen(server: Server, port: number, host?: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** Stops an HTTP server: open keep-alive connections are dropped so that closing does not wait for them. */
export async function closeHttp(server: Server & { closeAllConnections(): void }): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
