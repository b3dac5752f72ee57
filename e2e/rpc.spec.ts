// Request/reply (RPC) through the library over direct reply-to: a server consumer and a client, each a
// Messaging connection of its own in the stack's namespace, against the real broker. Answers, remote errors,
// timeouts, and "nobody serves this" as an immediate error.
import { Messaging, NonRetryableError, RpcRemoteError, RpcTimeoutError, UnroutableError } from '@warren/messaging';
import { brokers, Stack } from './support/stack';

describe.each(brokers())('request/reply ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: [] }); // no services: a namespace on the broker
  const ns = stack.namespace;
  const exchanges = { eventsExchange: `${ns}.warren.events`, commandsExchange: `${ns}.warren.commands` };
  let server: Messaging;
  let caller: Messaging;
  let served = 0;

  beforeAll(async () => {
    await stack.start();
    server = new Messaging({ url: stack.amqpUrl, serviceName: 'e2e-rpc-server', ...exchanges });
    await server.consume({
      queue: `${ns}.pricing.rpc`,
      rpc: true,
      bindings: [
        { exchange: exchanges.commandsExchange, pattern: 'pricing.quote' },
        { exchange: exchanges.commandsExchange, pattern: 'pricing.slow' },
      ],
      handlers: [
        {
          pattern: 'pricing.quote',
          handle: (m) => {
            served++;
            const { sku, quantity } = m.payload as { sku: string; quantity: number };
            if (sku === 'SKU-404') throw new NonRetryableError(`unknown sku ${sku}`);
            return { sku, total: quantity * 250 };
          },
        },
        { pattern: 'pricing.slow', handle: () => new Promise((r) => setTimeout(() => r({ late: true }), 1500)) },
      ],
    });
    await server.start();
    caller = new Messaging({ url: stack.amqpUrl, serviceName: 'e2e-rpc-client', ...exchanges });
    await caller.start();
  }, 60_000);

  afterAll(async () => {
    await caller?.close();
    await server?.close();
    await stack.teardown(['pricing.rpc']);
  });

  it('answers requests, concurrent ones each with its own reply', async () => {
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((quantity) =>
        caller.request<{ sku: string; total: number }>(
          'pricing.quote',
          { sku: 'SKU-001', quantity },
          { timeoutMs: 5000 },
        ),
      ),
    );
    expect(answers.map((a) => a.total)).toEqual([250, 500, 750, 1000, 1250]);
    expect(served).toBeGreaterThanOrEqual(5);
  });

  it('brings the server-side error back as RpcRemoteError', async () => {
    const err = await caller
      .request('pricing.quote', { sku: 'SKU-404', quantity: 1 }, { timeoutMs: 5000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcRemoteError);
    expect((err as Error).message).toMatch(/unknown sku SKU-404/);
  });

  it('gives up with RpcTimeoutError when the reply does not come in time', async () => {
    const started = Date.now();
    await expect(caller.request('pricing.slow', {}, { timeoutMs: 300 })).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('fails at once with UnroutableError when no server is bound for the request', async () => {
    const started = Date.now();
    await expect(caller.request('pricing.nobody', {}, { timeoutMs: 10_000 })).rejects.toBeInstanceOf(UnroutableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
