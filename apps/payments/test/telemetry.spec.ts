// The payments service's spans, on the real app over real brokers: each charge is a CLIENT span `gateway capture`
// and each refund a span `gateway refund`, naming the order, the amount and how it ended (an error when the gateway
// is unavailable).
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { CapturePayment, PaymentCaptured, PaymentDeclined, PaymentRefunded, RefundPayment } from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { deleteTopology, MessagingHarness, recordMessages } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../tools/testing/eventually';
import { installTestTelemetry, parentId, spanId, traceId } from '../../../tools/testing/otel';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { AppModule, PAYMENTS } from '../src/app.module';
import { PaymentGateway } from '../src/gateway/payment-gateway';

const otel = installTestTelemetry();
afterAll(() => otel.shutdown());

describe.each(testTargets())('payments telemetry ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let service: StartedService;
  let harness: MessagingHarness;
  let client: Messaging;
  let names: ReturnType<typeof topologyNames>;
  let gateway: PaymentGateway;
  let answers: IncomingMessage<{ orderId: string }>[] = [];

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'payments-otel');
    names = topologyNames();
    service = await startService(AppModule, { ...PAYMENTS, logger: false });
    harness = new MessagingHarness(service.app.get(Messaging));
    gateway = service.app.get(PaymentGateway);
    client = new Messaging({
      url: target.brokerUrl,
      serviceName: 'payments-otel-test',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
    });
    await client.start();
    answers = await recordMessages(client, names.queue('test.payments-otel-answers'), 'payment.#');
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [
          names.queue('payments.commands'),
          names.queue('payments.rpc'),
          names.queue('test.payments-otel-answers'),
        ],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    await env?.restore();
  });

  afterEach(() => void gateway.update({ failureRate: 0, declineRate: 0, latencyMs: 0 }));

  const answerFor = (orderId: string, type: string) =>
    eventually(`${type} for ${orderId}`, () => answers.find((a) => a.payload.orderId === orderId && a.type === type));
  const spansFor = (name: string, orderId: string) =>
    otel.spansNamed(name).filter((s) => s.attributes['warren.order.id'] === orderId);

  it('spans a capture the gateway approves, and one it declines, with the order, the amount and the outcome', async () => {
    const approved = randomUUID();
    const command = await client.send(CapturePayment, {
      orderId: approved,
      amount: 4999,
      customerEmail: 'ada@example.com',
    });
    await answerFor(approved, PaymentCaptured.type);
    gateway.update({ declineRate: 1 });
    const declined = randomUUID();
    await client.send(CapturePayment, { orderId: declined, amount: 150, customerEmail: 'ada@example.com' });
    await answerFor(declined, PaymentDeclined.type);

    const [a] = spansFor('gateway capture', approved);
    expect([a.kind, a.status.code, a.attributes]).toEqual([
      SpanKind.CLIENT,
      SpanStatusCode.UNSET,
      { 'warren.order.id': approved, 'warren.payment.amount': 4999, 'warren.payment.outcome': 'approved' },
    ]);
    const [d] = spansFor('gateway capture', declined);
    expect(d.attributes).toEqual({
      'warren.order.id': declined,
      'warren.payment.amount': 150,
      'warren.payment.outcome': 'declined',
    });
    expect(spansFor('gateway capture', approved)).toHaveLength(1);
    // under the span the command was handled in, which names the order too, in the trace the command came with
    const handled = otel.spans().find((s) => spanId(s) === parentId(a))!;
    expect([handled.name, handled.kind, handled.attributes['warren.order.id']]).toEqual([
      `process ${names.queue('payments.commands')}`,
      SpanKind.CONSUMER,
      approved,
    ]);
    expect(traceId(a)).toBe(command.traceparent.split('-')[1]);
  });

  it('marks a capture the gateway fails as an error, and spans the retry that succeeds', async () => {
    gateway.update({ failureRate: 1 });
    const orderId = randomUUID();
    const sent = await client.send(CapturePayment, { orderId, amount: 300, customerEmail: 'ada@example.com' });
    await harness.waitFor('retried', { messageId: sent.messageId });
    gateway.update({ failureRate: 0 });
    await answerFor(orderId, PaymentCaptured.type);
    const spans = spansFor('gateway capture', orderId);
    const failed = spans.filter((s) => s.status.code === SpanStatusCode.ERROR);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const s of failed) {
      expect(s.attributes).toMatchObject({
        'warren.payment.outcome': 'error',
        'error.type': 'GatewayUnavailableError',
      });
      expect(s.events.map((e) => e.name)).toContain('exception');
    }
    expect(spans.filter((s) => s.attributes['warren.payment.outcome'] === 'approved')).toHaveLength(1);
  });

  it('spans each refund with what it gave back: a refund, a repeat, a redelivery, and a refund with nothing captured', async () => {
    const orderId = randomUUID();
    await client.send(CapturePayment, { orderId, amount: 2500, customerEmail: 'ada@example.com' });
    await answerFor(orderId, PaymentCaptured.type);
    // one at a time, each handled before the next is sent, so the outcomes come in this order
    const refund = async (payload: { orderId: string; reason: string }, messageId = randomUUID()) => {
      const acked = harness.all('acked', { messageId }).length;
      await client.send(RefundPayment, payload, { messageId });
      await harness.waitForCount('acked', acked + 1, { messageId });
    };
    const messageId = randomUUID();
    await refund({ orderId, reason: 'stock could not be committed' }, messageId);
    await refund({ orderId, reason: 'stock could not be committed' }, messageId); // a redelivery
    await refund({ orderId, reason: 'asked again' }); // a second command
    const nothing = randomUUID();
    await refund({ orderId: nothing, reason: 'timed out' });
    await answerFor(nothing, PaymentRefunded.type);

    const outcomesOf = (orderIdOf: string) =>
      spansFor('gateway refund', orderIdOf).map((s) => [
        s.kind,
        s.attributes['warren.payment.outcome'],
        s.attributes['warren.payment.amount'],
      ]);
    expect(outcomesOf(orderId)).toEqual([
      [SpanKind.INTERNAL, 'refunded', 2500],
      [SpanKind.INTERNAL, 'duplicate', undefined],
      [SpanKind.INTERNAL, 'already-refunded', 0],
    ]);
    expect(outcomesOf(nothing)).toEqual([[SpanKind.INTERNAL, 'nothing-captured', 0]]);
  });
});
