import {
  deadLetterQueueName,
  Messaging,
  NonRetryableError,
  RpcRemoteError,
  RpcTimeoutError,
  UnroutableError,
} from '@warren/messaging';
import { AmqpTap } from './amqp-tap';
import type { Scenario, ScenarioContext } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';

interface Quote {
  sku: string;
  quantity: number;
  total: number;
}

/** How a request ended: its answer or its error, and how long it took. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await call();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

/**
 * RPC over the broker with the library (libs/messaging: request() on direct reply-to, consume({ rpc: true })).
 * No Warren service answers requests today (they talk in commands and events), so the console plays both
 * sides: a quote server that prices from inventory's live stock, and a caller.
 */
export const rpcScenario: Scenario = {
  id: 'rpc',
  title: 'Request/reply (RPC)',
  shows:
    'Requests on warren.commands answered over direct reply-to: concurrent replies each find their caller, a server error comes back as an error, a request nobody serves fails at once, a late reply times out.',
  budgetMs: 45_000,
  async run(ctx) {
    const queue = ctx.names.queue(`console.scenario-rpc`);
    const keys = {
      quote: `console.quote-${ctx.runId}`,
      slow: `console.slow-quote-${ctx.runId}`,
      nobody: `console.nobody-${ctx.runId}`,
    };
    const exchanges = { eventsExchange: ctx.names.eventsExchange, commandsExchange: ctx.names.commandsExchange };
    const prices = new Map(
      (await ctx.platform.stock()).map((s) => [s.sku, (s as { unitPrice?: number }).unitPrice ?? 0]),
    );

    const server = new Messaging({
      url: ctx.config.amqpUrl,
      serviceName: 'console (scenario: rpc server)',
      ...exchanges,
      shutdownTimeoutMs: 2000,
    });
    const caller = new Messaging({
      url: ctx.config.amqpUrl,
      serviceName: 'console (scenario: rpc caller)',
      ...exchanges,
      shutdownTimeoutMs: 2000,
    });
    const janitor = await AmqpTap.open(ctx.config.amqpUrl, 'console (scenario: rpc cleanup)');
    ctx.finally(`the quote server's queue ${queue}`, async () => {
      await Promise.all([server.close(), caller.close()]);
      await janitor.deleteQueue(queue);
      await janitor.deleteQueue(deadLetterQueueName(queue));
      await janitor.close();
    });
    let served = 0;
    await server.consume({
      queue,
      rpc: true,
      bindings: [keys.quote, keys.slow].map((pattern) => ({ exchange: exchanges.commandsExchange, pattern })),
      handlers: [
        {
          pattern: keys.quote,
          handle: (m): Quote => {
            served++;
            const { sku, quantity } = m.payload as { sku: string; quantity: number };
            const price = prices.get(sku);
            if (price === undefined) throw new NonRetryableError(`no such SKU: ${sku}`);
            return { sku, quantity, total: price * quantity };
          },
        },
        { pattern: keys.slow, handle: () => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 1500)) },
      ],
    });
    await Promise.all([server.start(), caller.start()]);
    ctx.say(
      `Started a quote server: queue ${queue}, bound to ${exchanges.commandsExchange} with '${keys.quote}'.`,
      'topology',
    );

    await concurrentQuotes(ctx, caller, keys.quote, [...prices.keys()].slice(0, 5));
    const remote = await timed(() => caller.request(keys.quote, { sku: 'SKU-999', quantity: 1 }, { timeoutMs: 5000 }));
    if (!(remote.error instanceof RpcRemoteError))
      throw new ScenarioFailure(
        `A quote for an unknown SKU should fail on the server and come back as RpcRemoteError; it ended with ${describe(remote)}.`,
      );
    ctx.say(`A quote for SKU-999: the server threw, the caller got RpcRemoteError (“${remote.error.message}”).`);

    const unroutable = await timed(() => caller.request(keys.nobody, {}, { timeoutMs: 10_000 }));
    if (!(unroutable.error instanceof UnroutableError))
      throw new ScenarioFailure(
        `A request nobody serves should fail at once with UnroutableError; it ended with ${describe(unroutable)}.`,
      );
    ctx.say(
      `A request to '${keys.nobody}', which no queue is bound for: UnroutableError after ${unroutable.ms} ms (published mandatory, returned by the broker) instead of waiting 10 s.`,
    );

    const late = await timed(() => caller.request(keys.slow, {}, { timeoutMs: 300 }));
    if (!(late.error instanceof RpcTimeoutError))
      throw new ScenarioFailure(
        `A reply that takes 1.5 s should time out after 300 ms; it ended with ${describe(late)}.`,
      );
    ctx.say(
      `A quote the server answers after 1.5 s, asked with a 300 ms timeout: RpcTimeoutError after ${late.ms} ms; the late reply is dropped.`,
    );
    return `5 concurrent requests, 5 replies each to its own caller (${served} requests served in all, the failing one included); a server error came back as RpcRemoteError, a request nobody serves failed in ${unroutable.ms} ms with UnroutableError, a late reply timed out after ${late.ms} ms.`;
  },
};

async function concurrentQuotes(ctx: ScenarioContext, caller: Messaging, key: string, skus: string[]): Promise<void> {
  if (skus.length < 5) throw new ScenarioFailure(`Inventory lists ${skus.length} SKUs; the scenario quotes 5.`);
  const asked = skus.map((sku, i) => ({ sku, quantity: i + 1 }));
  const started = Date.now();
  const answers = await Promise.all(asked.map((q) => caller.request<Quote>(key, q, { timeoutMs: 5000 })));
  const ms = Date.now() - started;
  const mismatched = answers.filter((a, i) => a.sku !== asked[i].sku || a.quantity !== asked[i].quantity);
  if (mismatched.length) throw new ScenarioFailure(`${mismatched.length} of 5 replies reached the wrong caller.`);
  ctx.say(
    `5 quotes asked at once, all on one reply-to (amq.rabbitmq.reply-to): 5 replies in ${ms} ms, each matched to its request by correlation id (${answers.map((a) => `${a.quantity} × ${a.sku} = ${(a.total / 100).toFixed(2)}`).join('; ')}).`,
    'topology',
  );
}

function describe(outcome: { value?: unknown; error?: unknown }): string {
  return outcome.error
    ? `${(outcome.error as Error).name}: ${(outcome.error as Error).message}`
    : `an answer (${JSON.stringify(outcome.value)})`;
}
