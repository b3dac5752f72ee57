import { z } from 'zod';
import {
  defineMessage,
  Messaging,
  MessageValidationError,
  NonRetryableError,
  RpcRemoteError,
  RpcTimeoutError,
  UnroutableError,
} from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, testBrokers, uniqueName } from './support/brokers';

const Reserve = defineMessage(
  'inventory.reserve',
  z.object({ sku: z.string(), quantity: z.number().int().positive() }),
);

describe.each(testBrokers())('RPC over direct reply-to ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const commands = uniqueName('commands');
  const queue = uniqueName('rpc');
  let server: Messaging;
  let client: Messaging;
  let harness: MessagingHarness;
  let stall: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    const opts = { url, eventsExchange: exchange, commandsExchange: commands };
    server = new Messaging({ ...opts, serviceName: 'inventory' });
    client = new Messaging({ ...opts, serviceName: 'orders', rpcTimeoutMs: 2000 });
    harness = new MessagingHarness(server);
    await server.start();
    await client.start();
    await server.consume({
      queue,
      rpc: true,
      bindings: ['inventory.reserve', 'inventory.fail', 'inventory.slow'].map((pattern) => ({
        exchange: commands,
        pattern,
      })),
      handlers: [
        {
          pattern: 'inventory.reserve',
          contract: Reserve,
          handle: (m) => ({ reserved: true, sku: (m.payload as { sku: string }).sku, correlation: m.correlationId }),
        },
        {
          pattern: 'inventory.fail',
          handle: () => {
            throw new NonRetryableError('out of stock', { code: 'OUT_OF_STOCK' });
          },
        },
        { pattern: 'inventory.slow', handle: () => stall },
      ],
    });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await cleanup(url, { queues: [queue], exchanges: [exchange, commands] });
  });

  it('returns the handler result to the caller', async () => {
    const reply = await client.request<{ reserved: boolean; sku: string }>(Reserve, { sku: 'SKU-1', quantity: 2 });
    expect(reply).toMatchObject({ reserved: true, sku: 'SKU-1' });
  });

  it('handles many concurrent requests, each reply finding its caller', async () => {
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.request<{ sku: string }>(Reserve, { sku: `SKU-${i}`, quantity: 1 })),
    );
    expect(replies.map((r) => r.sku)).toEqual(Array.from({ length: 50 }, (_, i) => `SKU-${i}`));
  });

  it('surfaces a server-side error as RpcRemoteError with its code, without retrying the request', async () => {
    const err = await client.request('inventory.fail', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcRemoteError);
    expect(err).toMatchObject({
      remoteCode: 'OUT_OF_STOCK',
      message: "'inventory.fail' failed on the server: out of stock",
    });
    expect(harness.all('retried', { queue })).toHaveLength(0);
  });

  it('answers an invalid request with the validation error', async () => {
    await expect(client.request(Reserve, { sku: 'x', quantity: 0 })).rejects.toBeInstanceOf(MessageValidationError);
    const remote = (await client.request('inventory.reserve', { sku: 'x' }).catch((e: unknown) => e)) as RpcRemoteError;
    expect(remote).toMatchObject({ remoteCode: 'INVALID_MESSAGE' });
    expect(String(remote.message)).toMatch(/quantity/);
  });

  it('times out with a clear error when the server does not answer in time', async () => {
    let unblock!: () => void;
    stall = new Promise((r) => (unblock = r));
    const started = Date.now();
    const err = await client.request('inventory.slow', {}, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTimeoutError);
    expect((err as Error).message).toBe("no reply to 'inventory.slow' within 300 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    unblock();
    // the late reply is dropped, and the client keeps working
    await harness.acked({ type: 'inventory.slow' });
    await expect(client.request(Reserve, { sku: 'after', quantity: 1 })).resolves.toMatchObject({ sku: 'after' });
  });

  it('fails at once when nobody serves the routing key', async () => {
    const started = Date.now();
    const err = await client.request('inventory.nobody', {}, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnroutableError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
