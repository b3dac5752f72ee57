// Inventory names the order on the span each of its commands is handled in (the messaging library's consumer span),
// on the real app over real brokers: the reservation, the commit and the release are found by `warren.order.id`.
import { SpanKind } from '@opentelemetry/api';
import { CommitStock, ReleaseStock, ReserveStock } from '@warren/contracts';
import { Messaging } from '@warren/messaging';
import { deleteTopology, MessagingHarness } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../tools/testing/eventually';
import { installTestTelemetry } from '../../../tools/testing/otel';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { AppModule, INVENTORY } from '../src/app.module';

const otel = installTestTelemetry();
afterAll(() => otel.shutdown());

describe.each(testTargets())('inventory telemetry ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let service: StartedService;
  let harness: MessagingHarness;
  let client: Messaging;
  let names: ReturnType<typeof topologyNames>;

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'inventory-otel');
    names = topologyNames();
    service = await startService(AppModule, { ...INVENTORY, logger: false });
    harness = new MessagingHarness(service.app.get(Messaging));
    client = new Messaging({
      url: target.brokerUrl,
      serviceName: 'inventory-otel-test',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
    });
    await client.start();
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [names.queue('inventory.commands'), names.queue('inventory.rpc')],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    await env?.restore();
  });

  it('names the order on the span of each reservation, commit and release it handles', async () => {
    const committed = randomUUID();
    const released = randomUUID();
    const sent = [
      await client.send(ReserveStock, { orderId: committed, items: [{ sku: 'SKU-002', quantity: 1 }] }),
      await client.send(CommitStock, { orderId: committed }),
      await client.send(ReserveStock, { orderId: released, items: [{ sku: 'SKU-002', quantity: 1 }] }),
      await client.send(ReleaseStock, { orderId: released, reason: 'payment declined: card declined' }),
    ];
    for (const m of sent) await harness.waitFor('acked', { messageId: m.messageId });
    const queue = names.queue('inventory.commands');
    // a command may be handled more than once (given back while another command of its order held the inbox row,
    // on Postgres), so each one is found by its final, successful handling
    const handled = await eventually('a successful consumer span for each of the four commands', () => {
      const ok = otel
        .spansNamed(`process ${queue}`)
        .filter(
          (s) =>
            s.attributes['warren.outcome'] === 'ok' &&
            sent.some((m) => m.messageId === s.attributes['messaging.message.id']),
        );
      return sent.every((m) => ok.some((s) => s.attributes['messaging.message.id'] === m.messageId)) ? ok : undefined;
    });
    const described = sent.map((m) => {
      const span = handled.find((s) => s.attributes['messaging.message.id'] === m.messageId)!;
      return [span.kind, span.attributes['warren.message.type'], span.attributes['warren.order.id']];
    });
    expect(described).toEqual([
      [SpanKind.CONSUMER, ReserveStock.type, committed],
      [SpanKind.CONSUMER, CommitStock.type, committed],
      [SpanKind.CONSUMER, ReserveStock.type, released],
      [SpanKind.CONSUMER, ReleaseStock.type, released],
    ]);
  });
});
