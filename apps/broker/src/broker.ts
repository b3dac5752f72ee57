import { ReplyCode } from '@warren/amqp-protocol';
import { createServer, Server, Socket } from 'node:net';
import { replyText } from './errors';
import type { User } from './connection/auth';
import { Connection, ConnectionHost } from './connection/connection';
import { DirectReplyRegistry } from './connection/direct-reply-to';
import { blockedReason, DEFAULT_LIMITS, ResourceLimits, ResourceMonitor } from './resource-monitor';
import { Storage } from './storage/storage';
import { VirtualHost } from './vhost/vhost';

export interface BrokerOptions {
  /** TCP port; 0 picks a free one. Default 5672. */
  port?: number;
  /** Interface to listen on; default all interfaces, IPv4 and IPv6. */
  host?: string;
  /** Where durable definitions and messages are kept; without one the broker keeps nothing across restarts. */
  dataDir?: string;
  frameMax?: number;
  channelMax?: number;
  /** Heartbeat interval the server proposes, in seconds (clients may lower it, 0 disables). */
  heartbeat?: number;
  /** Largest message body accepted, in bytes (RabbitMQ 3.10's default is 128 MiB). */
  maxMessageSize?: number;
  /** Milliseconds a new connection has to reach connection.open (RabbitMQ's handshake_timeout, 10 s). */
  handshakeTimeout?: number;
  /** Connections allowed in their handshake at once; more are dropped on accept (a slowloris bound). */
  maxHandshakes?: number;
  /** Bytes waiting to be written to one connection past which it is not read until they drain. */
  maxOutgoingBuffer?: number;
  users?: User[];
  log?: (message: string) => void;
  /** Resource alarm thresholds (see resource-monitor.ts) and how often to check them. */
  limits?: Partial<ResourceLimits>;
  alarmCheckIntervalMs?: number;
}

export const DEFAULTS = {
  port: 5672,
  frameMax: 131072,
  channelMax: 2047,
  heartbeat: 60,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeout: 10_000,
  maxHandshakes: 256,
  maxOutgoingBuffer: 4 * 1024 * 1024,
};

/** The bundled broker: a TCP listener, its connections, and the virtual host they share. */
export class Broker implements ConnectionHost {
  readonly settings: ConnectionHost['settings'];
  readonly users: User[];
  readonly replyTo = new DirectReplyRegistry();
  readonly connections = new Set<Connection>();
  /** Connections accepted that have not reached connection.open yet. */
  private readonly handshaking = new Set<Connection>();
  private readonly maxHandshakes: number;
  private refusedSinceLog = 0;
  private readonly vhosts: Map<string, VirtualHost>;
  private readonly monitor: ResourceMonitor;
  private server: Server | undefined;
  readonly log: (message: string) => void;

  constructor(private readonly options: BrokerOptions = {}) {
    this.settings = {
      frameMax: options.frameMax ?? DEFAULTS.frameMax,
      channelMax: options.channelMax ?? DEFAULTS.channelMax,
      heartbeat: options.heartbeat ?? DEFAULTS.heartbeat,
      maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
      handshakeTimeout: options.handshakeTimeout ?? DEFAULTS.handshakeTimeout,
      maxOutgoingBuffer: options.maxOutgoingBuffer ?? DEFAULTS.maxOutgoingBuffer,
    };
    this.maxHandshakes = options.maxHandshakes ?? DEFAULTS.maxHandshakes;
    this.users = options.users ?? [{ username: 'guest', password: 'guest', loopbackOnly: true }];
    // Logs go to stderr; stdout carries only the "listening on" line that scripts wait for.
    this.log = options.log ?? ((message) => console.error(`[broker] ${message}`));
    const storage = options.dataDir ? new Storage(options.dataDir, this.log) : undefined;
    this.vhosts = new Map([['/', new VirtualHost('/', storage)]]);
    this.monitor = new ResourceMonitor(
      { ...DEFAULT_LIMITS, ...options.limits },
      options.dataDir,
      () => this.alarmsChanged(),
      options.alarmCheckIntervalMs,
    );
  }

  /** Publishers are blocked while any alarm is in force (RabbitMQ's connection.blocked). */
  get blocked(): string | undefined {
    return this.monitor.alarms.size > 0 ? blockedReason(this.monitor.alarms) : undefined;
  }

  private alarmsChanged(): void {
    const reason = this.blocked;
    this.log(reason ? `resource alarm: ${reason}; blocking publishers` : `resource alarms cleared; unblocking publishers`);
    for (const connection of this.connections) {
      if (reason) connection.blockIfPublishing(reason);
      else connection.unblock();
    }
  }

  /** Changes the alarm thresholds and re-checks at once (operators; tests). */
  setLimits(limits: Partial<ResourceLimits>): void {
    this.monitor.limits = { ...this.monitor.limits, ...limits };
    this.monitor.check();
  }

  vhost(name: string): VirtualHost | undefined {
    return this.vhosts.get(name);
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    for (const vhost of this.vhosts.values()) vhost.restore();
    this.monitor.start();
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.options.port ?? DEFAULTS.port, host: this.options.host, ipv6Only: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  private accept(socket: Socket): void {
    if (this.handshaking.size >= this.maxHandshakes) {
      // Many connections that never finish their handshake would otherwise hold a file descriptor each for the
      // handshake timeout. Clients that were merely unlucky reconnect; one line per burst in the log.
      if (this.refusedSinceLog++ === 0)
        this.log(`${this.maxHandshakes} connections are already in their handshake; refusing new ones until one finishes`);
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    if (this.refusedSinceLog > 0) {
      this.log(`accepting connections again (${this.refusedSinceLog} refused)`);
      this.refusedSinceLog = 0;
    }
    const connection = new Connection(socket, this);
    this.connections.add(connection);
    this.handshaking.add(connection);
  }

  /** Connections in their handshake right now (for tests and operators). */
  get handshakes(): number {
    return this.handshaking.size;
  }

  handshakeDone(connection: Connection): void {
    this.handshaking.delete(connection);
  }

  connectionClosed(connection: Connection): void {
    this.connections.delete(connection);
    this.handshaking.delete(connection);
  }

  /** Stops accepting, closes every connection with 320 CONNECTION_FORCED, and waits for the sockets to go. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.monitor.stop();
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const sockets = [...this.connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.destroyed) return resolve();
          connection.socket.once('close', () => resolve());
          connection.close(ReplyCode.CONNECTION_FORCED, replyText(ReplyCode.CONNECTION_FORCED, "broker forced connection closure with reason 'shutdown'"));
        }),
    );
    await Promise.all([closed, ...sockets]);
    for (const vhost of this.vhosts.values()) vhost.close();
  }
}
