import { connect, type ChannelModel } from 'amqplib';
import { BrokerUnavailableError, Messaging, MessagingError } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';

// A channel the broker closes under a live connection comes back by itself, with backoff: the connection stays.
describe.each(testBrokers())('channel recovery ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const commands = uniqueName('commands');
  const missing = uniqueName('missing');
  const queues: string[] = [];
  const open: Messaging[] = [];
  let admin: ChannelModel;

  beforeAll(async () => {
    admin = await connect(url);
  });
  afterAll(async () => {
    await Promise.all(open.map((m) => m.close()));
    await admin.close();
    await cleanup(url, { queues, exchanges: [exchange, commands] });
  });

  async function service(name: string, logged: string[] = [], via = url) {
    const logger = {
      log: (l: string) => void logged.push(l),
      warn: (l: string) => void logged.push(l),
      error: (l: string) => void logged.push(l),
    };
    const m = new Messaging({
      url: via,
      serviceName: name,
      eventsExchange: exchange,
      commandsExchange: commands,
      rpcTimeoutMs: 3000,
      delayedMessages: 'ttl-queues',
      reconnect: { initialDelayMs: 40, maxDelayMs: 400 },
      retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 50 },
      logger,
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    return { m, harness };
  }

  async function onAdmin<T>(work: (ch: import('amqplib').Channel) => Promise<T>): Promise<T> {
    const ch = await admin.createChannel();
    try {
      return await work(ch);
    } finally {
      await ch.close();
    }
  }

  it('fails an RPC to a missing exchange with the broker’s words, reopens the RPC channel, and serves the next request', async () => {
    const queue = uniqueName('rpc-recovery');
    queues.push(queue);
    const server = await service('rpc-server');
    await server.m.consume({
      queue,
      rpc: true,
      bindings: [{ exchange: commands, pattern: 'stock.check' }],
      handlers: [{ pattern: 'stock.check', handle: () => ({ ok: true }) }],
    });
    await server.m.start();
    const logged: string[] = [];
    const client = await service('rpc-client', logged);
    await client.m.start();
    const err = (await client.m
      .request('stock.check', {}, { exchange: missing })
      .catch((e: unknown) => e)) as MessagingError;
    expect(err).toBeInstanceOf(MessagingError);
    expect(err.code).toBe('CHANNEL_ERROR');
    expect(err.message).toMatch(
      new RegExp(`^request 'stock.check' to exchange '${missing}' failed: .*404.*no exchange '${missing}'`),
    );
    const closed = await client.harness.waitFor('channel-closed', (e) => e.role === 'rpc');
    expect(closed).toMatchObject({ role: 'rpc', name: 'rpc', code: 404 });
    // the next request waits for the reopened channel, on the same connection
    expect(await client.m.request('stock.check', {})).toEqual({ ok: true });
    expect(await client.harness.waitFor('channel-recovered', (e) => e.role === 'rpc')).toMatchObject({
      role: 'rpc',
      attempts: 1,
    });
    expect(client.harness.all('disconnected')).toHaveLength(0);
    expect(client.m.counters).toMatchObject({ channelsClosed: 1, channelsRecovered: 1, channelRecoveryFailures: 0 });
    expect(logged.some((l) => /the RPC channel closed \(.*404.*\); reopening it/.test(l))).toBe(true);
    expect(logged.some((l) => /the RPC channel reopened after 1 attempt/.test(l))).toBe(true);
  });

  it('fails a request waiting on the RPC channel when another request closes it, saying so', async () => {
    const queue = uniqueName('rpc-bystander');
    queues.push(queue);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const server = await service('rpc-slow-server');
    await server.m.consume({
      queue,
      rpc: true,
      bindings: [{ exchange: commands, pattern: 'stock.slow' }],
      handlers: [{ pattern: 'stock.slow', handle: () => held.then(() => 'late') }],
    });
    await server.m.start();
    const client = await service('rpc-bystander-client');
    await client.m.start();
    const waiting = client.m.request('stock.slow', {}).catch((e: unknown) => e);
    await server.harness.waitFor('consumed', { type: 'stock.slow' });
    await expect(client.m.request('stock.slow', {}, { exchange: missing })).rejects.toMatchObject({
      code: 'CHANNEL_ERROR',
    });
    const bystander = (await waiting) as Error;
    expect(bystander).toBeInstanceOf(BrokerUnavailableError);
    expect(bystander.message).toMatch(
      /^the RPC channel closed before 'stock.slow' replied \(another request failed: .*404.*\); send it again$/,
    );
    release();
  });

  it('fails a publish to a missing exchange, reopens the publisher channel, and publishes the next message', async () => {
    const queue = uniqueName('publish-recovery');
    queues.push(queue);
    const { m, harness } = await service('publisher');
    await m.consume({
      queue,
      bindings: [{ pattern: 'note.*' }],
      handlers: [{ pattern: '#', handle: () => undefined }],
    });
    await m.start();
    // an innocent publish in flight beside the bad one goes again on the reopened channel
    const [bad, innocent] = await Promise.allSettled([
      m.publish({ exchange: missing, routingKey: 'note.lost', payload: {} }),
      m.publish({ exchange, routingKey: 'note.kept', payload: {} }),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toMatchObject({
      code: 'CHANNEL_ERROR',
      message: expect.stringMatching(new RegExp(`^publish to '${missing}' failed: .*404.*no exchange '${missing}'`)),
    });
    expect(innocent.status).toBe('fulfilled');
    expect(await harness.waitFor('channel-closed', (e) => e.role === 'publisher')).toMatchObject({
      role: 'publisher',
      code: 404,
    });
    const next = await m.publish({ exchange, routingKey: 'note.next', payload: {} });
    await harness.acked({ messageId: next.messageId });
    await harness.waitFor('channel-recovered', (e) => e.role === 'publisher');
    expect(harness.all('disconnected')).toHaveLength(0);
  });

  it('declares the topology again before reopening: an events exchange deleted under a running service comes back', async () => {
    const own = uniqueName('own-events');
    const queue = uniqueName('own-events-queue');
    queues.push(queue);
    const logged: string[] = [];
    const m = new Messaging({
      url,
      serviceName: 'redeclare',
      eventsExchange: own,
      commandsExchange: commands,
      delayedMessages: 'ttl-queues',
      reconnect: { initialDelayMs: 40, maxDelayMs: 400 },
      logger: { log: (l) => void logged.push(l), warn: (l) => void logged.push(l), error: (l) => void logged.push(l) },
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    m.topology.queue({ name: queue }).bind({ queue, exchange: own, pattern: 'own.*' });
    await m.start();
    try {
      await onAdmin((ch) => ch.deleteExchange(own)); // its binding goes with it
      await expect(m.publish({ exchange: own, routingKey: 'own.lost', payload: {} })).rejects.toMatchObject({
        code: 'CHANNEL_ERROR',
      });
      await harness.waitFor('channel-recovered', (e) => e.role === 'publisher');
      // exchange and binding declared again with the publisher channel: the next publish is routed to the queue
      await m.publish({ exchange: own, routingKey: 'own.back', payload: {} });
      expect(await onAdmin(async (ch) => (await ch.checkQueue(queue)).messageCount)).toBe(1);
    } finally {
      await m.close();
      await cleanup(url, { exchanges: [own] });
    }
  });

  it('resubscribes a consumer whose queue was deleted (the broker cancelled it)', async () => {
    const queue = uniqueName('cancel-recovery');
    queues.push(queue);
    const { m, harness } = await service('cancelled');
    await m.consume({ queue, bindings: [{ pattern: 'job.*' }], handlers: [{ pattern: '#', handle: () => undefined }] });
    await m.start();
    await onAdmin((ch) => ch.deleteQueue(queue));
    expect(await harness.waitFor('channel-closed', (e) => e.role === 'consumer')).toMatchObject({
      role: 'consumer',
      name: queue,
      reason: 'the broker cancelled the consumer (the queue was deleted?)',
    });
    await harness.waitFor('channel-recovered', (e) => e.name === queue);
    // declared again with its binding, and consumed from
    const sent = await m.publish({ exchange, routingKey: 'job.done', payload: {} });
    await harness.acked({ messageId: sent.messageId });
    expect(m.consumers[0].isConsuming).toBe(true);
  });

  it('keeps reopening a consumer channel the broker refuses (406) with backoff, and resubscribes once the conflict is gone', async () => {
    const queue = uniqueName('refused-recovery');
    queues.push(queue);
    const { m, harness } = await service('refused');
    await m.consume({
      queue,
      bindings: [{ pattern: 'task.*' }],
      handlers: [{ pattern: '#', handle: () => undefined }],
    });
    await m.start();
    // the DLQ replaced by one with other arguments, then the work queue deleted: each redeclaration is refused
    await onAdmin(async (ch) => {
      await ch.deleteQueue(`${queue}.dlq`);
      await ch.assertQueue(`${queue}.dlq`, { durable: true, arguments: { 'x-max-length': 5 } });
      await ch.deleteQueue(queue);
    });
    await harness.waitForCount('channel-recovery-failed', 2, (e) => e.name === queue);
    const failures = harness.all('channel-recovery-failed', (e) => e.name === queue);
    expect(failures[0]).toMatchObject({
      role: 'consumer',
      code: 406,
      attempt: 1,
      reason: expect.stringMatching(/inequivalent arg 'x-max-length'/),
    });
    expect(failures[1].attempt).toBe(2);
    expect(harness.all('channel-recovered', (e) => e.name === queue)).toHaveLength(0);
    expect(m.isConnected).toBe(true); // the connection is not torn down for one consumer's channel
    await onAdmin((ch) => ch.deleteQueue(`${queue}.dlq`));
    const recovered = await harness.waitFor('channel-recovered', (e) => e.name === queue);
    expect(recovered.attempts).toBeGreaterThanOrEqual(3);
    const sent = await m.publish({ exchange, routingKey: 'task.run', payload: {} });
    await harness.acked({ messageId: sent.messageId });
    expect(m.counters.channelRecoveryFailures).toBeGreaterThanOrEqual(2);
  });

  it('leaves channels lost with their connection to the connection (no channel events), and reopens them on the next one', async () => {
    const queue = uniqueName('connection-loss');
    queues.push(queue);
    const proxy = await TcpProxy.start(url);
    const { m, harness } = await service('connection-loss', [], proxy.url);
    await m.consume({
      queue,
      bindings: [{ pattern: 'loss.*' }],
      handlers: [{ pattern: '#', handle: () => undefined }],
    });
    await m.start();
    await proxy.cut();
    await harness.waitFor('disconnected');
    await proxy.restore();
    await eventually('reconnection', () => (m.isConnected ? true : undefined));
    const sent = await m.publish({ exchange, routingKey: 'loss.after', payload: {} });
    await harness.acked({ messageId: sent.messageId });
    expect(harness.all('channel-closed')).toHaveLength(0);
    await m.close();
    await proxy.close();
  });
});
