import { ReplyCode } from '@warren/amqp-protocol';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer, Server as TlsServer, TLSSocket } from 'node:tls';
import { replyText } from './errors';
import { AccessControl } from './access/access-control';
import { Metrics } from './metrics';
import { PrometheusServer } from './prometheus';
import {
  applyAccessDefinitions,
  argumentsTable,
  DefinitionsError,
  parseDefinitions,
  RabbitDefinitions,
} from './access/definitions-file';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from './storage/definitions';
import { Connection, ConnectionHost } from './connection/connection';
import { DirectReplyRegistry } from './connection/direct-reply-to';
import { blockedReason, DEFAULT_LIMITS, ResourceLimits, ResourceMonitor } from './resource-monitor';
import { Storage } from './storage/storage';
import { listen } from './util/listen';
import type { ManagementHost } from './management/context';
import { ManagementServer } from './management/server';
import { VirtualHost } from './vhost/vhost';

/** The certificate, key or CA could not be used (the broker does not start). */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

/** The amqps listener (RabbitMQ's ssl_listeners with ssl_options). PEM contents, not file names. */
export interface TlsOptions {
  /** Default 5671; 0 picks a free port. */
  port?: number;
  cert: string | Buffer;
  key: string | Buffer;
  /** CAs that client certificates must chain to. */
  ca?: string | Buffer;
  /** Ask clients for a certificate and refuse one that does not verify (RabbitMQ's verify_peer). */
  verifyPeer?: boolean;
  /** With verifyPeer: refuse clients that present none (RabbitMQ's fail_if_no_peer_cert). */
  failIfNoPeerCert?: boolean;
}

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
  /** Users, vhosts and permissions; default: RabbitMQ's first boot (guest/guest on '/', loopback only). */
  access?: AccessControl;
  /** RabbitMQ definitions applied at start (users, vhosts and permissions into `access`; then the topology). */
  definitions?: RabbitDefinitions;
  log?: (message: string) => void;
  /** An amqps listener beside the plain one. */
  tls?: TlsOptions;
  /** The management HTTP API's port (0 picks one); without it there is no management API. */
  managementPort?: number;
  /** Serve the management API over HTTPS with the amqps listener's certificate and key (`tls`). */
  managementTls?: boolean;
  /** The Prometheus endpoint's port (0 picks one); without it there is none. */
  prometheusPort?: number;
  /** Users who may connect from this machine only (RabbitMQ's loopback_users); default guest. */
  loopbackUsers?: string[];
  /** Resource alarm thresholds (see resource-monitor.ts) and how often to check them. */
  limits?: Partial<ResourceLimits>;
  alarmCheckIntervalMs?: number;
}

export const DEFAULTS = {
  port: 5672,
  frameMax: 131072,
  channelMax: 2047,
  heartbeat: 60,
  tlsPort: 5671,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeout: 10_000,
  maxHandshakes: 256,
  maxOutgoingBuffer: 4 * 1024 * 1024,
};

/** The bundled broker: a TCP listener, its connections, and the virtual host they share. */
export class Broker implements ConnectionHost, ManagementHost {
  readonly settings: ConnectionHost['settings'];
  readonly access: AccessControl;
  readonly metrics = new Metrics();
  readonly replyTo = new DirectReplyRegistry();
  readonly connections = new Set<Connection>();
  /** Connections accepted that have not reached connection.open yet. */
  private readonly handshaking = new Set<Connection>();
  private readonly maxHandshakes: number;
  private refusedSinceLog = 0;
  readonly vhosts: Map<string, VirtualHost>;
  private readonly monitor: ResourceMonitor;
  private server: Server | undefined;
  private tlsServer: TlsServer | undefined;
  /** The amqps port once listening (when TLS is configured). */
  tlsPort: number | undefined;
  private readonly accessFile: string | undefined;
  private readonly savedPolicies: RabbitDefinitions['policies'];
  /** The management API's port once listening. */
  managementPort: number | undefined;
  private management: ManagementServer | undefined;
  private prometheus: PrometheusServer | undefined;
  /** The Prometheus endpoint's port once listening. */
  prometheusPort: number | undefined;
  private amqpPort = 0;
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
    // Users, vhosts, permissions and policies changed at run time live in <data-dir>/access.json (RabbitMQ's
    // definitions format); RabbitMQ's first-boot defaults apply only when there is none yet.
    this.accessFile = options.dataDir ? join(options.dataDir, 'access.json') : undefined;
    const saved = this.accessFile && existsSync(this.accessFile) ? readAccessFile(this.accessFile) : undefined;
    this.access =
      options.access ??
      (saved
        ? new AccessControl(options.loopbackUsers ?? ['guest'])
        : AccessControl.withDefaults(options.loopbackUsers ?? ['guest']));
    this.savedPolicies = saved?.policies ?? [];
    if (saved) applyAccessDefinitions(this.access, saved);
    if (options.definitions) applyAccessDefinitions(this.access, options.definitions);
    // Logs go to stderr; stdout carries only the "listening on" line that scripts wait for.
    this.log = options.log ?? ((message) => console.error(`[broker] ${message}`));
    this.vhosts = new Map();
    for (const name of this.access.vhosts.keys()) this.addVhost(name);
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
    this.log(
      reason ? `resource alarm: ${reason}; blocking publishers` : `resource alarms cleared; unblocking publishers`,
    );
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

  /** Creates a virtual host (with its amq.* exchanges and its own storage) unless it exists; returns it. */
  addVhost(name: string): VirtualHost {
    let vhost = this.vhosts.get(name);
    if (vhost) return vhost;
    if (!this.access.vhosts.has(name)) this.access.addVhost(name);
    const dataDir = this.options.dataDir;
    vhost = new VirtualHost(name, dataDir ? new Storage(Storage.vhostDir(dataDir, name), this.log) : undefined);
    this.vhosts.set(name, vhost);
    if (this.server) vhost.restore();
    return vhost;
  }

  private applyPolicies(policies: RabbitDefinitions['policies']): void {
    for (const p of policies) {
      this.addVhost(p.vhost).setPolicy({
        name: p.name,
        pattern: p.pattern as string,
        applyTo: p['apply-to'] as 'queues' | 'exchanges' | 'all',
        priority: p.priority as number,
        definition: p.definition as Record<string, unknown>,
      });
    }
  }

  /** Users, vhosts, permissions and policies to <data-dir>/access.json, after a change through the API. */
  saveAccess(): void {
    if (!this.accessFile) return;
    const access = this.access;
    const vhosts = [...this.vhosts.values()];
    writeFileAtomically(
      this.accessFile,
      JSON.stringify(
        {
          users: [...access.users.values()].map((u) => ({
            name: u.name,
            password_hash: u.passwordHash,
            hashing_algorithm: u.hashingAlgorithm,
            tags: u.tags,
          })),
          vhosts: vhosts.map((v) => ({
            name: v.name,
            metadata: {
              description: access.vhosts.get(v.name)?.description ?? '',
              tags: access.vhosts.get(v.name)?.tags ?? [],
            },
          })),
          permissions: access.listPermissions(),
          policies: vhosts.flatMap((v) =>
            [...v.policies.values()].map((p) => ({
              vhost: v.name,
              name: p.name,
              pattern: p.pattern,
              'apply-to': p.applyTo,
              priority: p.priority,
              definition: p.definition,
            })),
          ),
        },
        null,
        1,
      ),
    );
  }

  /** Definitions imported at run time (management API): users, vhosts, permissions, then the topology. */
  importDefinitions(defs: RabbitDefinitions): void {
    applyAccessDefinitions(this.access, defs);
    for (const v of defs.vhosts) this.addVhost(v.name);
    this.declareTopology(defs);
  }

  /** The exchanges, queues and bindings of definitions, declared as a client would (existing ones are kept). */
  private declareTopology(defs: RabbitDefinitions): void {
    const owner = {}; // none of these is exclusive
    // policies first, so that the objects below are declared under them
    this.applyPolicies(defs.policies);
    for (const x of defs.exchanges) {
      const vhost = this.addVhost(x.vhost);
      vhost.declareExchange({
        name: x.name,
        type: x.type,
        passive: false,
        durable: x.durable,
        autoDelete: x.auto_delete,
        internal: x.internal,
        arguments: argumentsTable(x.arguments),
      });
    }
    for (const q of defs.queues) {
      const vhost = this.addVhost(q.vhost);
      vhost.declareQueue(
        {
          name: q.name,
          passive: false,
          durable: q.durable,
          exclusive: false,
          autoDelete: q.auto_delete,
          arguments: argumentsTable(q.arguments),
        },
        owner,
      );
    }
    for (const b of defs.bindings) {
      const vhost = this.addVhost(b.vhost);
      if (b.destination_type === 'queue')
        vhost.bindQueue(b.destination, b.source, b.routing_key, argumentsTable(b.arguments), owner);
      else vhost.bindExchange(b.destination, b.source, b.routing_key, argumentsTable(b.arguments));
    }
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    for (const vhost of this.vhosts.values()) vhost.restore();
    this.applyPolicies(this.savedPolicies);
    if (this.options.definitions) {
      try {
        this.declareTopology(this.options.definitions);
      } catch (error) {
        throw new DefinitionsError(`definitions: ${(error as Error).message}`);
      }
    }
    this.monitor.start();
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    this.amqpPort = await listen(server, this.options.port ?? DEFAULTS.port, this.options.host);
    if (this.options.tls) this.tlsPort = await this.listenTls(this.options.tls);
    if (this.options.managementPort !== undefined) {
      this.management = new ManagementServer(this, this.log);
      const tls = this.options.managementTls ? this.options.tls : undefined;
      if (this.options.managementTls && !tls)
        throw new TlsConfigError('HTTPS for the management API needs a TLS certificate and key');
      this.managementPort = await this.management.listen(this.options.managementPort, this.options.host, tls);
    }
    if (this.options.prometheusPort !== undefined) {
      this.prometheus = new PrometheusServer(this);
      this.prometheusPort = await this.prometheus.listen(this.options.prometheusPort, this.options.host);
    }
    return this.amqpPort;
  }

  // ---- what the management API reads ----

  connectionList(): Connection[] {
    return [...this.connections];
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get channelCount(): number {
    let n = 0;
    for (const connection of this.connections) n += connection.channelCount;
    return n;
  }

  unackedCounts(): Map<object, number> {
    const counts = new Map<object, number>();
    for (const connection of this.connections) connection.countUnacked(counts);
    return counts;
  }

  get alarms(): string[] {
    return [...this.monitor.alarms];
  }

  get listeners(): { protocol: string; port: number }[] {
    const out = [{ protocol: 'amqp', port: this.amqpPort }];
    if (this.tlsPort !== undefined) out.push({ protocol: 'amqp/ssl', port: this.tlsPort });
    if (this.managementPort !== undefined)
      out.push({ protocol: this.options.managementTls ? 'https' : 'http', port: this.managementPort });
    if (this.prometheusPort !== undefined) out.push({ protocol: 'http/prometheus', port: this.prometheusPort });
    return out;
  }

  /** Deletes a vhost: its connections are closed with 320 (as RabbitMQ does), its queues and their data go. */
  deleteVhost(name: string): boolean {
    const vhost = this.vhosts.get(name);
    if (!vhost) return false;
    for (const connection of this.connections) {
      if (connection.vhost === vhost)
        connection.close(
          ReplyCode.CONNECTION_FORCED,
          replyText(ReplyCode.CONNECTION_FORCED, `vhost '${name}' is deleted`),
        );
    }
    for (const queue of [...vhost.queues.keys()])
      vhost.deleteQueue(queue, vhost.queues.get(queue)?.owner ?? {}, false, false);
    vhost.close();
    this.vhosts.delete(name);
    this.access.deleteVhost(name);
    // its durable definitions go too, so that a vhost made again under this name starts empty
    if (this.options.dataDir && name !== '/')
      rmSync(Storage.vhostDir(this.options.dataDir, name), { recursive: true, force: true });
    return true;
  }

  /**
   * The amqps listener: TLS first (bounded by the handshake timeout like the AMQP handshake), then the same
   * connections as on the plain port. A client whose TLS handshake fails (plain AMQP on this port, an unknown
   * CA, a certificate that does not verify) is logged and dropped; everyone else is served on.
   */
  private async listenTls(tls: TlsOptions): Promise<number> {
    let server: TlsServer;
    try {
      server = this.createTlsServer(tls);
    } catch (error) {
      throw new TlsConfigError(`cannot use the TLS certificate, key or CA: ${(error as Error).message}`);
    }
    server.on('tlsClientError', (error, socket) =>
      this.log(`TLS handshake failed from ${socket.remoteAddress}: ${error.message}`),
    );
    this.tlsServer = server;
    return listen(server, tls.port ?? DEFAULTS.tlsPort, this.options.host);
  }

  private createTlsServer(tls: TlsOptions): TlsServer {
    return createTlsServer(
      {
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        requestCert: tls.verifyPeer ?? false,
        rejectUnauthorized: (tls.verifyPeer ?? false) && (tls.failIfNoPeerCert ?? false),
        handshakeTimeout: this.settings.handshakeTimeout,
      },
      (socket) => {
        // verify_peer without fail_if_no_peer_cert: no certificate is fine, a certificate that fails is not
        if (tls.verifyPeer && !socket.authorized && hasPeerCertificate(socket)) {
          this.log(`TLS client certificate refused from ${socket.remoteAddress}: ${socket.authorizationError}`);
          socket.destroy();
          return;
        }
        this.accept(socket);
      },
    );
  }

  private accept(socket: Socket): void {
    if (this.handshaking.size >= this.maxHandshakes) {
      // Many connections that never finish their handshake would otherwise hold a file descriptor each for the
      // handshake timeout. Clients that were merely unlucky reconnect; one line per burst in the log.
      if (this.refusedSinceLog++ === 0)
        this.log(
          `${this.maxHandshakes} connections are already in their handshake; refusing new ones until one finishes`,
        );
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    if (this.refusedSinceLog > 0) {
      this.log(`accepting connections again (${this.refusedSinceLog} refused)`);
      this.refusedSinceLog = 0;
    }
    const connection = new Connection(socket, this);
    this.metrics.connectionsOpened++;
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
    if (this.connections.delete(connection)) this.metrics.connectionsClosed++;
    this.handshaking.delete(connection);
  }

  /** Stops accepting, closes every connection with 320 CONNECTION_FORCED, and waits for the sockets to go. */
  async close(): Promise<void> {
    const server = this.server;
    const tlsServer = this.tlsServer;
    this.server = undefined;
    this.tlsServer = undefined;
    this.monitor.stop();
    const closed = Promise.all([
      ...[server, tlsServer].map((s) => (s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)),
      this.management?.close(),
      this.prometheus?.close(),
    ]);
    const sockets = [...this.connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.destroyed) return resolve();
          connection.socket.once('close', () => resolve());
          connection.close(
            ReplyCode.CONNECTION_FORCED,
            replyText(ReplyCode.CONNECTION_FORCED, "broker forced connection closure with reason 'shutdown'"),
          );
        }),
    );
    await Promise.all([closed, ...sockets]);
    for (const vhost of this.vhosts.values()) vhost.close();
  }
}

function hasPeerCertificate(socket: TLSSocket): boolean {
  const certificate = socket.getPeerCertificate();
  return certificate !== null && Object.keys(certificate).length > 0;
}

/** The users, vhosts, permissions and policies saved by an earlier run; DefinitionsError when unreadable. */
function readAccessFile(file: string): RabbitDefinitions {
  try {
    return parseDefinitions(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new DefinitionsError(`${file}: ${(error as Error).message}`);
  }
}
