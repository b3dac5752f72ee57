import { randomUUID } from 'node:crypto';
import { CapturePayment, PaymentCaptured, PaymentDeclined, PaymentRefunded, RefundPayment } from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { deleteTopology, MessagingHarness, recordMessages } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { AppModule, PAYMENTS } from '../src/app.module';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { eventually } from '../../../tools/testing/eventually';

const ADMIN_TOKEN = 'payments-test-admin-token';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

type Answer = IncomingMessage<{ orderId: string; paymentId?: string; amount?: number; reason?: string }>;

describe.each(testTargets())('payments ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let service: StartedService;
  let harness: MessagingHarness;
  let client: Messaging;
  let names: ReturnType<typeof topologyNames>;
  let answers: Answer[] = [];

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'payments');
    process.env.ADMIN_TOKEN = ADMIN_TOKEN;
    names = topologyNames();
    service = await startService(AppModule, { ...PAYMENTS, logger: false });
    harness = new MessagingHarness(service.app.get(Messaging));
    client = new Messaging({
      url: target.brokerUrl,
      serviceName: 'payments-test',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
    });
    await client.start();
    answers = await recordMessages(client, names.queue('test.payments-answers'), 'payment.#');
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [names.queue('payments.commands'), names.queue('payments.rpc'), names.queue('test.payments-answers')],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    await env?.restore();
  });

  afterEach(async () => {
    await gateway({ failureRate: 0, declineRate: 0, latencyMs: 0 });
  });

  const gateway = (body: unknown, headers: Record<string, string> = admin, url = service.url) =>
    fetch(`${url}/admin/gateway`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const answerFor = (orderId: string, type: string) =>
    eventually(`${type} for ${orderId}`, () => answers.find((a) => a.payload.orderId === orderId && a.type === type));
  const answersFor = (orderId: string) => answers.filter((a) => a.payload.orderId === orderId);
  const ledger = async (query = '') =>
    (await fetch(`${service.url}/payments${query}`)).json() as Promise<Array<Record<string, unknown>>>;
  const capture = (orderId: string, amount = 4999) =>
    client.send(CapturePayment, { orderId, amount, customerEmail: 'ada@example.com' });

  it('captures a payment: a ledger row and payment.captured', async () => {
    const orderId = randomUUID();
    await capture(orderId, 12_345);
    const answer = await answerFor(orderId, PaymentCaptured.type);
    expect(answer.payload).toEqual({ orderId, paymentId: expect.any(String), amount: 12_345 });
    expect(answer.exchange).toBe(names.eventsExchange);
    expect(await ledger(`?orderId=${orderId}`)).toEqual([
      // instance: WARREN_INSTANCE when set, else the service's name
      {
        id: answer.payload.paymentId,
        kind: 'capture',
        orderId,
        paymentId: answer.payload.paymentId,
        amount: 12_345,
        status: 'CAPTURED',
        customerEmail: 'ada@example.com',
        instance: 'payments',
        at: expect.any(String),
      },
    ]);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('answers a decline with payment.declined, without a retry or a payment', async () => {
    expect((await gateway({ declineRate: 1 })).status).toBe(200);
    const orderId = randomUUID();
    const sent = await capture(orderId);
    expect((await answerFor(orderId, PaymentDeclined.type)).payload).toEqual({
      orderId,
      reason: expect.stringMatching(/declined/),
    });
    await harness.acked({ messageId: sent.messageId });
    expect(harness.all('retried', { messageId: sent.messageId })).toHaveLength(0);
    expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
  });

  it('retries a transient gateway failure with backoff, then captures once the gateway recovers', async () => {
    expect(await (await gateway({ failureRate: 1 })).json()).toEqual({ failureRate: 1, declineRate: 0, latencyMs: 0 });
    const orderId = randomUUID();
    const sent = await capture(orderId);
    const retried = await harness.retried({ messageId: sent.messageId });
    expect(retried).toMatchObject({
      attempt: 1,
      error: expect.objectContaining({ message: expect.stringMatching(/timed out/) }),
    });
    await gateway({ failureRate: 0 });
    const answer = await answerFor(orderId, PaymentCaptured.type);
    expect(answer.payload).toMatchObject({ orderId, amount: 4999 });
    expect(harness.all('retried', { messageId: sent.messageId }).length).toBeGreaterThanOrEqual(1);
    expect(harness.all('dead-lettered', { messageId: sent.messageId })).toHaveLength(0);
    expect(await ledger(`?orderId=${orderId}`)).toHaveLength(1);
  });

  it('charges a capture delivered twice once, and answers a second capture command with the same payment', async () => {
    const orderId = randomUUID();
    const messageId = randomUUID();
    const command = {
      exchange: names.commandsExchange,
      routingKey: CapturePayment.type,
      type: CapturePayment.type,
      payload: { orderId, amount: 700, customerEmail: 'ada@example.com' },
      messageId,
    };
    await client.publish(command);
    await client.publish(command);
    await harness.waitForCount('acked', 2, { messageId });
    const first = await answerFor(orderId, PaymentCaptured.type);
    expect(answersFor(orderId)).toHaveLength(1);
    // the saga asking again (a new message) gets the same payment, not a second charge
    await capture(orderId, 700);
    await eventually('a second payment.captured', () => (answersFor(orderId).length === 2 ? true : undefined));
    expect(answersFor(orderId).map((a) => a.payload.paymentId)).toEqual([
      first.payload.paymentId,
      first.payload.paymentId,
    ]);
    expect(await ledger(`?orderId=${orderId}`)).toHaveLength(1);
  });

  it('refunds a captured payment once; a second refund answers the same refund; the ledger shows both, newest first', async () => {
    const orderId = randomUUID();
    await capture(orderId, 2500);
    const captured = await answerFor(orderId, PaymentCaptured.type);
    await client.send(RefundPayment, { orderId, reason: 'stock could not be committed' });
    const refunded = await answerFor(orderId, PaymentRefunded.type);
    expect(refunded.payload).toEqual({ orderId, paymentId: captured.payload.paymentId, amount: 2500 });
    await client.send(RefundPayment, { orderId, reason: 'again' });
    await eventually('a second payment.refunded', () =>
      answersFor(orderId).filter((a) => a.type === PaymentRefunded.type).length === 2 ? true : undefined,
    );
    expect(
      answersFor(orderId)
        .filter((a) => a.type === PaymentRefunded.type)
        .map((a) => a.payload),
    ).toEqual([refunded.payload, refunded.payload]);
    const rows = await ledger(`?orderId=${orderId}`);
    expect(rows).toMatchObject([
      {
        kind: 'refund',
        orderId,
        paymentId: captured.payload.paymentId,
        amount: 2500,
        reason: 'stock could not be committed',
      },
      { kind: 'capture', orderId, status: 'REFUNDED', amount: 2500 },
    ]);
    const all = await ledger();
    expect(all.length).toBeGreaterThanOrEqual(2);
    const times = all.map((e) => Date.parse(e.at as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('treats a refund with nothing captured as a no-op (amount 0) and declines a capture that comes after it', async () => {
    const orderId = randomUUID();
    await client.send(RefundPayment, { orderId, reason: 'saga timed out' });
    expect((await answerFor(orderId, PaymentRefunded.type)).payload).toMatchObject({ orderId, amount: 0 });
    await capture(orderId);
    expect((await answerFor(orderId, PaymentDeclined.type)).payload).toMatchObject({
      reason: expect.stringMatching(/cancelled/),
    });
    expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
  });

  describe('late commands (issue 17): a capture that carries a deadline', () => {
    const past = () => new Date(Date.now() - 1000).toISOString();

    it('charges nothing when taken after its deadline: payment.declined with expired, no payment row, no gateway call', async () => {
      // a gateway that fails every call: the capture would be retried if it reached it
      expect((await gateway({ failureRate: 1 })).status).toBe(200);
      const orderId = randomUUID();
      const deadline = past();
      const sent = await client.send(CapturePayment, {
        orderId,
        amount: 4999,
        customerEmail: 'ada@example.com',
        deadline,
      });
      const answer = await answerFor(orderId, PaymentDeclined.type);
      expect(answer.payload).toEqual({
        orderId,
        reason: `the capture came after its deadline (${deadline}); nothing was charged`,
        expired: { deadline, at: expect.any(String) },
      });
      expect(Date.parse((answer.payload as PaymentDeclined).expired!.at)).toBeGreaterThanOrEqual(Date.parse(deadline));
      await harness.acked({ messageId: sent.messageId });
      expect(harness.all('retried', { messageId: sent.messageId })).toHaveLength(0);
      expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
      // the saga's timeout compensation that follows it gives nothing back and leaves no refund in the ledger
      await client.send(RefundPayment, { orderId, reason: 'timed out waiting for payment' });
      expect((await answerFor(orderId, PaymentRefunded.type)).payload).toMatchObject({ orderId, amount: 0 });
      expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
      expect(answersFor(orderId).map((a) => a.type)).toEqual([PaymentDeclined.type, PaymentRefunded.type]);
    });

    it('retries a capture the gateway keeps failing until its deadline, then answers it as late: no DLQ entry, no charge', async () => {
      expect((await gateway({ failureRate: 1 })).status).toBe(200);
      const orderId = randomUUID();
      const deadline = new Date(Date.now() + 1200).toISOString();
      const sent = await client.send(CapturePayment, {
        orderId,
        amount: 700,
        customerEmail: 'ada@example.com',
        deadline,
      });
      const answer = await answerFor(orderId, PaymentDeclined.type);
      expect(answer.payload).toMatchObject({ orderId, expired: { deadline } });
      const retried = harness.all('retried', { messageId: sent.messageId });
      expect(retried.length).toBeGreaterThanOrEqual(1);
      // the transient failure, carried with the deadline to the library
      expect(retried.every((r) => r.error.name === 'RetryUntilError' && /timed out/.test(r.error.message))).toBe(true);
      expect(harness.all('dead-lettered', { messageId: sent.messageId })).toHaveLength(0);
      expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
    });

    it('says a late capture is late after a refund voided the order too', async () => {
      const orderId = randomUUID();
      await client.send(RefundPayment, { orderId, reason: 'saga timed out' });
      await answerFor(orderId, PaymentRefunded.type);
      await client.send(CapturePayment, { orderId, amount: 100, customerEmail: 'ada@example.com', deadline: past() });
      expect((await answerFor(orderId, PaymentDeclined.type)).payload).toMatchObject({
        expired: { deadline: expect.any(String) },
      });
      expect(await ledger(`?orderId=${orderId}`)).toEqual([]);
    });

    it('captures as before when the deadline is ahead, and answers a late capture of an order captured already with its payment', async () => {
      const orderId = randomUUID();
      await client.send(CapturePayment, {
        orderId,
        amount: 1200,
        customerEmail: 'ada@example.com',
        deadline: new Date(Date.now() + 60_000).toISOString(),
      });
      const captured = await answerFor(orderId, PaymentCaptured.type);
      expect(captured.payload).toEqual({ orderId, paymentId: expect.any(String), amount: 1200 });
      // the money has moved: the saga must hear of it (and refund it if it gave up), not a decline
      await client.send(CapturePayment, { orderId, amount: 1200, customerEmail: 'ada@example.com', deadline: past() });
      await eventually('a second payment.captured', () => (answersFor(orderId).length === 2 ? true : undefined));
      expect(answersFor(orderId).map((a) => [a.type, a.payload])).toEqual([
        [PaymentCaptured.type, captured.payload],
        [PaymentCaptured.type, captured.payload],
      ]);
      expect(await ledger(`?orderId=${orderId}`)).toHaveLength(1);
    });
  });

  it('validates PUT /admin/gateway (400 with the reasons) and shows the settings at GET', async () => {
    const bad = await gateway({ failureRate: 1.5, declineRate: -1, latencyMs: 'slow', extra: true });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: Array<{ path: string }> };
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['failureRate', 'declineRate', 'latencyMs']));
    expect((await gateway({})).status).toBe(400);
    expect((await gateway({ latencyMs: 5 })).status).toBe(200);
    expect(await (await fetch(`${service.url}/admin/gateway`, { headers: admin })).json()).toEqual({
      failureRate: 0,
      declineRate: 0,
      latencyMs: 5,
    });
    expect((await fetch(`${service.url}/payments?limit=0`)).status).toBe(400);
  });

  it('answers 400 for a repeated orderId (issue 10: it reached the database and was a 500)', async () => {
    const res = await fetch(`${service.url}/payments?orderId=1&orderId=2`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'invalid query',
      issues: [{ path: 'orderId', message: 'given 2 times; give it once' }],
    });
  });

  it.each([
    ['an orderId that is not a UUID', '?orderId=1', 'orderId'],
    ['a limit that is not a number', '?limit=ten', 'limit'],
    ['a limit over 1000', '?limit=1001', 'limit'],
    ['an unknown parameter', '?order=1', '(query)'],
  ])('answers 400 for %s in the ledger query', async (_what, query, issuePath) => {
    const res = await fetch(`${service.url}/payments${query}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      message: 'invalid query',
      issues: [expect.objectContaining({ path: issuePath })],
    });
  });

  it('guards the gateway settings with ADMIN_TOKEN: 401 without it or with a wrong one, 200 as Bearer or Basic', async () => {
    const settings = { latencyMs: 7 };
    const wrong: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
    ];
    for (const headers of wrong) {
      const res = await gateway(settings, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="warren admin"');
    }
    expect((await fetch(`${service.url}/admin/gateway`)).status).toBe(401);
    expect(await (await fetch(`${service.url}/admin/gateway`, { headers: admin })).json()).toMatchObject({
      latencyMs: 0,
    }); // the 401s changed nothing
    expect((await gateway(settings, admin)).status).toBe(200);
    const basic = await gateway(
      { latencyMs: 8 },
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
    );
    expect(basic.status).toBe(200);
    expect(await basic.json()).toMatchObject({ latencyMs: 8 });
  });

  it('turns the gateway settings off (403, how to turn them on) when ADMIN_TOKEN is unset', async () => {
    delete process.env.ADMIN_TOKEN;
    const open = await startService(AppModule, { ...PAYMENTS, logger: false }).finally(
      () => (process.env.ADMIN_TOKEN = ADMIN_TOKEN),
    );
    try {
      const res = await gateway({ declineRate: 1 }, admin, open.url);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'admin routes are off: set ADMIN_TOKEN to turn them on',
      });
      expect((await fetch(`${open.url}/admin/gateway`)).status).toBe(403);
    } finally {
      await open.close();
    }
  });
});
