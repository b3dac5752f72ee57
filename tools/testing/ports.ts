import { createServer } from 'node:net';

/** Ports this process has handed out: the OS may offer a port again as soon as it is released. */
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback, asked of the OS (free when asked: bind it soon). Never the same port twice in one
 * process, so a test that asks for several ports before starting anything gets distinct ones.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await askTheOs();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function askTheOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
