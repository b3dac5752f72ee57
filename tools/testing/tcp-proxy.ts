import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy in front of a broker, to take the broker "away" and bring it back without touching
 * the broker itself (so the same outage works against RabbitMQ): cut() drops every connection and refuses
 * new ones; restore() accepts again. stall() keeps the connections open but lets nothing through either way,
 * as a broker that stopped answering (SIGSTOP, a partition) looks to a client.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Proxies to the broker of `url`; `url` of the proxy keeps the credentials and vhost. */
  static async start(url: string): Promise<TcpProxy> {
    const u = new URL(url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5672));
    await proxy.listen(0);
    proxy.target = u;
    return proxy;
  }

  private target?: URL;

  get url(): string {
    const u = new URL(this.target!.toString());
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      // forward unless stalled: what arrives while stalled is dropped, as on a link that went dark
      client.on('data', (d) => void (this.stalled || upstream.write(d)));
      upstream.on('data', (d) => void (this.stalled || client.write(d)));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** Drops every open connection and stops accepting: to the client, the broker is gone. */
  async cut(): Promise<void> {
    this.stalled = false;
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Keeps every connection open and forwards nothing more, either way, until cut() or close(). */
  stall(): void {
    this.stalled = true;
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
