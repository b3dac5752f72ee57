import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';

// Minimal test helpers for this service's suites (apps may not import another project's test files).

export interface TestTarget {
  name: string;
  brokerUrl: string;
  database: 'sqlite' | 'postgres';
}

/** The bundled broker always, RabbitMQ when RABBITMQ_URL is set; each on SQLite, and on Postgres when DATABASE_URL is set. */
export function testTargets(): TestTarget[] {
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled) throw new Error('WARREN_TEST_BROKER_URL is not set: run the tests through jest -c apps/<service>/jest.config.js');
  const brokers = [{ name: 'bundled', url: bundled }, ...(process.env.RABBITMQ_URL ? [{ name: 'rabbitmq', url: process.env.RABBITMQ_URL }] : [])];
  const databases: Array<'sqlite' | 'postgres'> = ['sqlite', ...(process.env.DATABASE_URL ? (['postgres'] as const) : [])];
  return brokers.flatMap((b) => databases.map((database) => ({ name: `${b.name} broker, ${database}`, brokerUrl: b.url, database })));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Polls until `check` returns something other than undefined; fails after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The environment one in-process service instance reads: a namespace of its own on the broker, its own
 * database (a SQLite file in a temporary directory, or a Postgres database created from DATABASE_URL's
 * server). restore() puts the previous environment back and drops the database.
 */
export async function serviceEnvironment(target: TestTarget, service: string): Promise<{ namespace: string; restore(): Promise<void> }> {
  const saved = { ...process.env };
  const namespace = uniqueName(`test.${service}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), `warren-${service}-`));
  let dropDatabase = async (): Promise<void> => undefined;
  Object.assign(process.env, { PORT: '0', WARREN_NAMESPACE: namespace, WARREN_DATA_DIR: dataDir, AMQP_URL: target.brokerUrl });
  delete process.env.DATABASE_SCHEMA;
  if (target.database === 'postgres') {
    const server = saved.DATABASE_URL!;
    const name = `warren_${service}_${randomBytes(5).toString('hex')}`;
    await withServer(server, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(server);
    url.pathname = `/${name}`;
    process.env.DATABASE_URL = url.toString();
    dropDatabase = () => withServer(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  } else {
    delete process.env.DATABASE_URL;
  }
  return {
    namespace,
    async restore() {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await dropDatabase();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Deletes a namespace's queues (with their retry and DLQ companions) and exchanges from the broker. */
export async function deleteTopology(url: string, what: { queues: string[]; exchanges: string[] }): Promise<void> {
  const conn = await connect(url);
  try {
    for (const q of what.queues) {
      for (const name of [q, `${q}.dlq`, ...Array.from({ length: 10 }, (_, i) => `${q}.retry.${i + 1}`)]) {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(name).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
    }
    for (const e of what.exchanges) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(e).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

async function withServer(url: string, fn: (c: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

/** A loopback TCP forwarder to a broker: cut() drops every connection and refuses new ones (the broker is "away"), restore() lets them through again. */
export class BrokerLink {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private cutOff = false;
  url = '';

  private constructor(private readonly target: URL) {
    this.server = createServer((client) => {
      if (this.cutOff) return void client.destroy();
      const upstream = netConnect(Number(this.target.port || 5672), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async open(brokerUrl: string): Promise<BrokerLink> {
    const link = new BrokerLink(new URL(brokerUrl));
    await new Promise<void>((resolve, reject) => link.server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const url = new URL(brokerUrl);
    url.hostname = '127.0.0.1';
    url.port = String((link.server.address() as { port: number }).port);
    link.url = url.toString();
    return link;
  }

  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
