import { randomUUID } from 'node:crypto';
import { ReserveStock, StockReserved } from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { deleteTopology, recordMessages } from '@warren/messaging/testing';
import { AppModule, INVENTORY } from '../src/app.module';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { eventually } from '../../../tools/testing/eventually';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';

// The outage does not depend on the database: SQLite only.
describe.each(testTargets().filter((t) => t.database === 'sqlite'))('inventory health ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let link: TcpProxy;
  let service: StartedService;
  let client: Messaging;
  let names: ReturnType<typeof topologyNames>;
  let answers: IncomingMessage<{ orderId: string }>[] = [];

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'inventory');
    link = await TcpProxy.start(target.brokerUrl);
    process.env.AMQP_URL = link.url;
    names = topologyNames();
    service = await startService(AppModule, { ...INVENTORY, logger: false });
    client = new Messaging({
      url: target.brokerUrl,
      serviceName: 'inventory-test',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
    });
    await client.start();
    answers = await recordMessages(client, names.queue('test.inventory-answers'), 'inventory.#');
  });

  afterAll(async () => {
    await client?.close();
    link?.restore();
    await service?.close();
    await link?.close();
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [
          names.queue('inventory.commands'),
          names.queue('inventory.rpc'),
          names.queue('test.inventory-answers'),
        ],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    await env?.restore();
  });

  const health = async () => (await fetch(`${service.url}/health`)).status;

  it('answers 503 while the broker is away and 200 again once it is back, then handles commands again', async () => {
    expect(await health()).toBe(200);
    await link.cut();
    await eventually('GET /health to answer 503', async () => ((await health()) === 503 ? true : undefined));
    await link.restore();
    await eventually('GET /health to answer 200', async () => ((await health()) === 200 ? true : undefined), 20_000);
    const orderId = randomUUID();
    await client.send(ReserveStock, { orderId, items: [{ sku: 'SKU-009', quantity: 1 }] });
    await eventually('stock-reserved', () =>
      answers.find((a) => a.payload.orderId === orderId && a.type === StockReserved.type),
    );
  });
});
