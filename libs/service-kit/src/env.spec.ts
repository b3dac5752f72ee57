import { databaseOptions } from './database';
import { readEnv } from './env';

describe('readEnv', () => {
  it('uses the defaults of docs/architecture.md (Ports and environment)', () => {
    expect(readEnv('orders', 3001, {})).toEqual({
      amqpUrl: 'amqp://guest:guest@localhost:5672',
      messagingQueueType: 'classic',
      port: 3001,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: '.data',
      sqliteSynchronous: 'full',
      shutdownTimeoutMs: 25_000,
    });
  });

  it('takes the listen address from HOST', () => {
    expect(readEnv('orders', 3001, { HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(readEnv('orders', 3001, { HOST: '' }).host).toBe('0.0.0.0');
  });

  it('takes PORT, then <SERVICE>_PORT', () => {
    expect(readEnv('orders', 3001, { ORDERS_PORT: '4001' }).port).toBe(4001);
    expect(readEnv('orders', 3001, { ORDERS_PORT: '4001', PORT: '5001' }).port).toBe(5001);
  });

  it('names the variable when a port is not a number', () => {
    expect(() => readEnv('orders', 3001, { ORDERS_PORT: 'abc' })).toThrow(
      "ORDERS_PORT must be a port number (0-65535), got 'abc'",
    );
  });

  it('takes MESSAGING_QUEUE_TYPE, and names it when it is neither classic nor quorum', () => {
    expect(readEnv('orders', 3001, { MESSAGING_QUEUE_TYPE: 'quorum' }).messagingQueueType).toBe('quorum');
    expect(readEnv('orders', 3001, { MESSAGING_QUEUE_TYPE: 'classic' }).messagingQueueType).toBe('classic');
    expect(readEnv('orders', 3001, { MESSAGING_QUEUE_TYPE: '' }).messagingQueueType).toBe('classic');
    for (const bad of ['Quorum', 'stream', ' quorum'])
      expect(() => readEnv('orders', 3001, { MESSAGING_QUEUE_TYPE: bad })).toThrow(
        `MESSAGING_QUEUE_TYPE must be classic or quorum, got '${bad}'`,
      );
  });

  it('passes a list of brokers in AMQP_URL through as it is (the messaging library parses it)', () => {
    expect(readEnv('orders', 3001, { AMQP_URL: 'amqp://a:5672,amqp://b:5672' }).amqpUrl).toBe(
      'amqp://a:5672,amqp://b:5672',
    );
  });

  it('takes SQLITE_SYNCHRONOUS, and names it when it is neither full nor normal', () => {
    expect(readEnv('orders', 3001, { SQLITE_SYNCHRONOUS: 'normal' }).sqliteSynchronous).toBe('normal');
    expect(readEnv('orders', 3001, { SQLITE_SYNCHRONOUS: '' }).sqliteSynchronous).toBe('full');
    for (const bad of ['NORMAL', 'off', 'extra'])
      expect(() => readEnv('orders', 3001, { SQLITE_SYNCHRONOUS: bad })).toThrow(
        `SQLITE_SYNCHRONOUS must be full or normal, got '${bad}'`,
      );
  });

  it('takes SHUTDOWN_TIMEOUT_MS, and names it when it is not a positive whole number', () => {
    expect(readEnv('orders', 3001, { SHUTDOWN_TIMEOUT_MS: '5000' }).shutdownTimeoutMs).toBe(5000);
    for (const bad of ['0', '-1', '2.5', 'soon'])
      expect(() => readEnv('orders', 3001, { SHUTDOWN_TIMEOUT_MS: bad })).toThrow(
        `SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds (at least 1), got '${bad}'`,
      );
  });
});

describe('databaseOptions', () => {
  it('refuses a DATABASE_URL that is not Postgres, hiding the credentials', () => {
    expect(() =>
      databaseOptions({
        service: 's',
        databaseUrl: 'mysql://u:secret@h/db',
        dataDir: '/tmp',
        entities: [],
        migrations: [],
      }),
    ).toThrow("DATABASE_URL must be a postgres:// URL, got 'mysql://***@h/db'");
  });
});
