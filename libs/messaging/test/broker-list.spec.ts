import { DeadLetterQueue, Messaging, MessagingError, parseBrokerUrls } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { freePort } from '../../../tools/testing/ports';
import { spawnBroker, type SpawnedBroker } from '../../../tools/testing/spawn-broker';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';

/** A URL nothing listens on: the port was free when asked and nothing binds it. */
async function deadUrl(like: string): Promise<string> {
  const u = new URL(like);
  u.hostname = '127.0.0.1';
  u.port = String(await freePort());
  return u.toString();
}

const recorder = () => {
  const lines: string[] = [];
  return {
    lines,
    logger: {
      log: (l: string) => void lines.push(l),
      warn: (l: string) => void lines.push(l),
      error: (l: string) => void lines.push(l),
    },
  };
};

/** The test brokers' URLs carry guest:guest; with its own password a line that leaks it is easy to spot. */
const withPassword = (url: string, password: string): string => {
  const u = new URL(url);
  u.password = password;
  return u.toString();
};

describe('broker URL lists', () => {
  it('splits on commas, trims, and refuses what is not an amqp:// or amqps:// URL, masking its password', () => {
    expect(parseBrokerUrls(' amqp://a:1/ , amqps://u:p@b:2/v ,')).toEqual(['amqp://a:1/', 'amqps://u:p@b:2/v']);
    expect(() => new Messaging({ url: 'amqp://u:secret@a:1,http://u:secret@b:2', serviceName: 'x' })).toThrow(
      new MessagingError('INVALID_URL', "'http://u:***@b:2' in url is not an amqp:// or amqps:// URL"),
    );
    expect(() => new Messaging({ url: 'amqp://u:secret@a:1,not a url', serviceName: 'x' })).toThrow(
      "'not a url' in url is not a URL: need amqp://user:pass@host:port/vhost",
    );
    expect(() => new Messaging({ url: ' , ', serviceName: 'x' })).toThrow(
      'url is empty: need an amqp:// or amqps:// URL (several separated by commas)',
    );
  });
});

describe.each(testBrokers())('a list of brokers ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const queues: string[] = [];

  afterAll(async () => {
    await cleanup(url, { queues, exchanges: [exchange, `${exchange}.cmd`] });
  });

  it('connects to the next broker when the first is down, with the password masked in every log line', async () => {
    // RabbitMQ refuses a wrong password: the one that reaches it is the real one; the dead broker gets another
    const first = withPassword(await deadUrl(url), 'first-secret');
    const { lines, logger } = recorder();
    const m = new Messaging({
      url: `${first},${url}`,
      serviceName: 'list-first-down',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      delayedMessages: 'ttl-queues',
      reconnect: { initialDelayMs: 40, maxDelayMs: 200 },
      logger,
    });
    try {
      await m.start();
      expect(m.connection.url).toBe(url);
      const masked = new URL(first);
      masked.password = '***';
      expect(
        lines.some(
          (l) =>
            l.startsWith(`broker ${masked.toString().replace(/\/$/, '')} unreachable (`) &&
            l.includes('attempt 1, next: '),
        ),
      ).toBe(true);
      expect(lines.some((l) => /^connected to the broker at amqp:\/\/guest:\*\*\*@/.test(l))).toBe(true);
      for (const l of lines) expect(l).not.toMatch(/first-secret|:guest@/);
    } finally {
      await m.close();
    }
  });

  it('moves to the next broker when the one in use goes away mid-run, and keeps consuming', async () => {
    const [a, b] = [await TcpProxy.start(url), await TcpProxy.start(url)];
    const queue = uniqueName('list-move');
    queues.push(queue);
    const { lines, logger } = recorder();
    const m = new Messaging({
      url: `${a.url},${b.url}`,
      serviceName: 'list-move',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      delayedMessages: 'ttl-queues',
      reconnect: { initialDelayMs: 40, maxDelayMs: 200 },
      logger,
    });
    const harness = new MessagingHarness(m);
    try {
      await m.consume({
        queue,
        bindings: [{ pattern: 'moved.*' }],
        handlers: [{ pattern: '#', handle: () => undefined }],
      });
      await m.start();
      expect(m.connection.url).toBe(a.url);
      const before = await m.publish({ exchange, routingKey: 'moved.before', payload: {} });
      await harness.acked({ messageId: before.messageId });
      await a.cut(); // the broker in use is gone (and stays gone)
      await harness.waitFor('disconnected');
      await eventually('the connection on the second broker', () =>
        m.isConnected && m.connection.url === b.url ? true : undefined,
      );
      expect(
        lines.some((l) => l.includes(`reconnecting, first to ${b.url.replace(/\/$/, '').replace(':guest@', ':***@')}`)),
      ).toBe(true);
      const after = await m.publish({ exchange, routingKey: 'moved.after', payload: {} });
      await harness.acked({ messageId: after.messageId });
    } finally {
      await m.close();
      await a.close();
      await b.close();
    }
  });

  it('lets the DLQ tools take a list too (the first broker that answers)', async () => {
    const dlq = new DeadLetterQueue(`${await deadUrl(url)},${url}`);
    try {
      await expect(dlq.count(uniqueName('nothing-here'))).rejects.toMatchObject({ code: 'DLQ_NOT_FOUND' });
    } finally {
      await dlq.close();
    }
  });
});

describe('a list of two bundled brokers, the one in use stopped mid-run', () => {
  let brokers: SpawnedBroker[] = [];

  beforeAll(async () => {
    brokers = [await spawnBroker(), await spawnBroker()];
  });
  afterAll(async () => {
    for (const b of brokers) await b.stop();
  });

  it('re-declares everything on the other broker and goes on publishing and consuming there', async () => {
    const [one, two] = brokers;
    const exchange = uniqueName('events');
    const queue = uniqueName('list-stop');
    const m = new Messaging({
      url: `${one.url},${two.url}`,
      serviceName: 'list-stop',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      reconnect: { initialDelayMs: 40, maxDelayMs: 200 },
    });
    const harness = new MessagingHarness(m);
    try {
      await m.consume({
        queue,
        bindings: [{ pattern: 'stop.*' }],
        handlers: [{ pattern: '#', handle: () => undefined }],
      });
      await m.start();
      expect(m.connection.url).toBe(one.url);
      await one.stop('SIGKILL');
      await eventually('the connection on the second broker', () =>
        m.isConnected && m.connection.url === two.url ? true : undefined,
      );
      // the second broker had none of it: exchanges, queue and binding were declared there on connecting
      const sent = await m.publish({ exchange, routingKey: 'stop.after', payload: {} });
      await harness.acked({ messageId: sent.messageId });
    } finally {
      await m.close();
    }
  });
});
