import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { uniqueName } from './topology';

// The environment of a service under test, started in-process: which brokers and databases to run on, and the
// variables one instance reads (service-kit reads them when the app is created).

export interface TestTarget {
  name: string;
  brokerUrl: string;
  database: 'sqlite' | 'postgres';
}

/** The bundled broker always, RabbitMQ when RABBITMQ_URL is set; each on SQLite, and on Postgres when DATABASE_URL is set. */
export function testTargets(): TestTarget[] {
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled)
    throw new Error('WARREN_TEST_BROKER_URL is not set: run the tests through jest -c apps/<service>/jest.config.js');
  const brokers = [
    { name: 'bundled', url: bundled },
    ...(process.env.RABBITMQ_URL ? [{ name: 'rabbitmq', url: process.env.RABBITMQ_URL }] : []),
  ];
  const databases: Array<'sqlite' | 'postgres'> = [
    'sqlite',
    ...(process.env.DATABASE_URL ? (['postgres'] as const) : []),
  ];
  return brokers.flatMap((b) =>
    databases.map((database) => ({ name: `${b.name} broker, ${database}`, brokerUrl: b.url, database })),
  );
}

/**
 * The environment one in-process service instance reads: a namespace of its own on the broker, its own
 * database (a SQLite file in a temporary directory, or a Postgres database created from DATABASE_URL's
 * server). restore() puts the previous environment back and drops the database.
 */
export async function serviceEnvironment(
  target: TestTarget,
  service: string,
): Promise<{ namespace: string; restore(): Promise<void> }> {
  const saved = { ...process.env };
  const namespace = uniqueName(`test.${service}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), `warren-${service}-`));
  let dropDatabase = async (): Promise<void> => undefined;
  Object.assign(process.env, {
    PORT: '0',
    WARREN_NAMESPACE: namespace,
    WARREN_DATA_DIR: dataDir,
    AMQP_URL: target.brokerUrl,
  });
  delete process.env.DATABASE_SCHEMA;
  if (target.database === 'postgres') {
    const database = await createTestDatabase(saved.DATABASE_URL!, service);
    process.env.DATABASE_URL = database.url;
    dropDatabase = database.drop;
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

/**
 * A new, empty Postgres database `warren_<label>_<random>` on the server of `serverUrl` (e.g. DATABASE_URL):
 * its URL, and drop() (which ends whatever is still connected to it).
 */
export async function createTestDatabase(
  serverUrl: string,
  label: string,
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `warren_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  await withServer(serverUrl, (c) =>
    c.query(`CREATE DATABASE ${name}`).catch((err: Error) => {
      throw new Error(`could not create the test database ${name}: ${err.message} (the role needs CREATEDB)`);
    }),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withServer(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withServer(url: string, fn: (c: Client) => Promise<unknown>): Promise<void> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach Postgres at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${(err as Error).message}`);
  }
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}
