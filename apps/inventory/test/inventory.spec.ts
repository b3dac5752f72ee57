import { randomUUID } from 'node:crypto';
import {
  CommitStock,
  ReleaseStock,
  ReserveStock,
  StockRejected,
  StockReleased,
  StockReserved,
} from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { deleteTopology, MessagingHarness, recordMessages } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { AppModule, INVENTORY } from '../src/app.module';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { eventually } from '../../../tools/testing/eventually';

const ADMIN_TOKEN = 'inventory-test-admin-token';

type Stock = Array<{ sku: string; name: string; unitPrice: number; available: number; reserved: number }>;

describe.each(testTargets())('inventory ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let service: StartedService;
  let harness: MessagingHarness;
  let client: Messaging;
  let names: ReturnType<typeof topologyNames>;
  let answers: IncomingMessage<{ orderId: string }>[] = [];

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'inventory');
    process.env.ADMIN_TOKEN = ADMIN_TOKEN;
    names = topologyNames();
    service = await startService(AppModule, { ...INVENTORY, logger: false });
    harness = new MessagingHarness(service.app.get(Messaging));
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
    await service?.close();
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [
          names.queue('inventory.commands'),
          names.queue('inventory.rpc'),
          names.queue('test.inventory-answers'),
        ],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    delete process.env.ADMIN_TOKEN;
    await env?.restore();
  });

  const answerFor = (orderId: string, type: string) =>
    eventually(`${type} for ${orderId}`, () => answers.find((a) => a.payload.orderId === orderId && a.type === type));
  const answersFor = (orderId: string) => answers.filter((a) => a.payload.orderId === orderId);
  const stock = async (): Promise<Stock> => (await fetch(`${service.url}/stock`)).json() as Promise<Stock>;
  const item = async (sku: string) => (await stock()).find((s) => s.sku === sku)!;

  it('serves the seeded catalogue at GET /stock and is healthy', async () => {
    const res = await fetch(`${service.url}/stock`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as Stock;
    expect(list.length).toBeGreaterThanOrEqual(10);
    expect(list[0]).toEqual({ sku: 'SKU-001', name: expect.any(String), unitPrice: 2450, available: 100, reserved: 0 });
    for (const s of list)
      expect(s).toMatchObject({
        sku: expect.stringMatching(/^SKU-\d{3}$/),
        available: expect.any(Number),
        reserved: 0,
      });
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });

  it('reserves every line and answers stock-reserved with priced lines and the total in cents', async () => {
    const orderId = randomUUID();
    await client.send(ReserveStock, {
      orderId,
      items: [
        { sku: 'SKU-001', quantity: 2 },
        { sku: 'SKU-003', quantity: 1 },
        { sku: 'SKU-001', quantity: 1 },
      ],
    });
    const answer = await answerFor(orderId, StockReserved.type);
    expect(answer.payload).toEqual({
      orderId,
      items: [
        { sku: 'SKU-001', quantity: 3, unitPrice: 2450 },
        { sku: 'SKU-003', quantity: 1, unitPrice: 2200 },
      ],
      total: 3 * 2450 + 2200,
    });
    expect(answer.exchange).toBe(names.eventsExchange);
    expect(await item('SKU-001')).toMatchObject({ available: 97, reserved: 3 });
    expect(await item('SKU-003')).toMatchObject({ available: 59, reserved: 1 });
    expect(await (await fetch(`${service.url}/reservations/${orderId}`)).json()).toMatchObject({
      status: 'RESERVED',
      total: 9550,
    });
  });

  it('answers 400 for a reservation id that is not a UUID', async () => {
    const res = await fetch(`${service.url}/reservations/not-a-uuid`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      statusCode: 400,
      message: 'invalid path parameters',
      issues: [{ path: 'orderId', message: expect.any(String) }],
    });
  });

  it('rejects an order it cannot fill completely, lists what is short, and reserves nothing', async () => {
    const orderId = randomUUID();
    await client.send(ReserveStock, {
      orderId,
      items: [
        { sku: 'SKU-002', quantity: 1 },
        { sku: 'SKU-005', quantity: 26 },
        { sku: 'SKU-999', quantity: 1 },
      ],
    });
    const answer = await answerFor(orderId, StockRejected.type);
    expect(answer.payload).toEqual({
      orderId,
      reason: expect.stringMatching(/SKU-005 \(requested 26, available 25\).*SKU-999 \(unknown SKU\)/),
      unavailable: [
        { sku: 'SKU-005', requested: 26, available: 25 },
        { sku: 'SKU-999', requested: 1, available: 0 },
      ],
    });
    expect(await item('SKU-002')).toMatchObject({ available: 40, reserved: 0 });
    expect(await item('SKU-005')).toMatchObject({ available: 25, reserved: 0 });
    expect((await fetch(`${service.url}/reservations/${orderId}`)).status).toBe(404);
  });

  it('commits a reservation (the units leave) and releases another one, idempotently', async () => {
    const kept = randomUUID();
    const dropped = randomUUID();
    await client.send(ReserveStock, { orderId: kept, items: [{ sku: 'SKU-004', quantity: 10 }] });
    await client.send(ReserveStock, { orderId: dropped, items: [{ sku: 'SKU-006', quantity: 5 }] });
    await answerFor(kept, StockReserved.type);
    await answerFor(dropped, StockReserved.type);
    expect(await item('SKU-006')).toMatchObject({ available: 45, reserved: 5 });

    const commit = await client.send(CommitStock, { orderId: kept });
    await harness.acked({ messageId: commit.messageId });
    expect(await item('SKU-004')).toMatchObject({ available: 490, reserved: 0 });
    expect(await (await fetch(`${service.url}/reservations/${kept}`)).json()).toMatchObject({ status: 'COMMITTED' });

    await client.send(ReleaseStock, { orderId: dropped, reason: 'payment declined' });
    await answerFor(dropped, StockReleased.type);
    expect(await item('SKU-006')).toMatchObject({ available: 50, reserved: 0 });
    // a second release (another message) changes nothing and answers again
    const again = await client.send(ReleaseStock, { orderId: dropped, reason: 'payment declined' });
    await harness.acked({ messageId: again.messageId });
    await eventually('a second stock-released', () =>
      answersFor(dropped).filter((a) => a.type === StockReleased.type).length === 2 ? true : undefined,
    );
    expect(await item('SKU-006')).toMatchObject({ available: 50, reserved: 0 });
    // releasing a committed order changes nothing
    const late = await client.send(ReleaseStock, { orderId: kept, reason: 'too late' });
    await harness.acked({ messageId: late.messageId });
    expect(await item('SKU-004')).toMatchObject({ available: 490, reserved: 0 });
  });

  it('treats a release before any reservation as a no-op that refuses the late reserve', async () => {
    const orderId = randomUUID();
    await client.send(ReleaseStock, { orderId, reason: 'saga timed out' });
    await answerFor(orderId, StockReleased.type);
    await client.send(ReserveStock, { orderId, items: [{ sku: 'SKU-007', quantity: 1 }] });
    expect((await answerFor(orderId, StockRejected.type)).payload).toMatchObject({
      reason: expect.stringMatching(/already released/),
    });
    expect(await item('SKU-007')).toMatchObject({ available: 35, reserved: 0 });
  });

  describe('late commands (issue 17): a reserve that carries a deadline', () => {
    it('reserves nothing when taken after its deadline, and answers stock-rejected with expired', async () => {
      const orderId = randomUUID();
      const before = await item('SKU-009');
      const deadline = new Date(Date.now() - 1000).toISOString();
      const sent = await client.send(ReserveStock, { orderId, items: [{ sku: 'SKU-009', quantity: 2 }], deadline });
      const answer = await answerFor(orderId, StockRejected.type);
      expect(answer.payload).toEqual({
        orderId,
        reason: `the reservation came after its deadline (${deadline}); nothing was reserved`,
        unavailable: [],
        expired: { deadline, at: expect.any(String) },
      });
      expect(Date.parse((answer.payload as unknown as StockRejected).expired!.at)).toBeGreaterThanOrEqual(
        Date.parse(deadline),
      );
      await harness.acked({ messageId: sent.messageId });
      expect(harness.all('retried', { messageId: sent.messageId })).toHaveLength(0);
      expect(await item('SKU-009')).toEqual(before);
      expect((await fetch(`${service.url}/reservations/${orderId}`)).status).toBe(404);
      // the saga's timeout compensation that follows it is the usual no-op, and leaves the mark against a later reserve
      await client.send(ReleaseStock, { orderId, reason: 'timed out waiting for stock reservation' });
      await answerFor(orderId, StockReleased.type);
      expect(await item('SKU-009')).toEqual(before);
      expect(answersFor(orderId).map((a) => a.type)).toEqual([StockRejected.type, StockReleased.type]);
    });

    it('reserves as before when the deadline is ahead, and answers a late reserve for stock held already with that stock', async () => {
      const orderId = randomUUID();
      const before = await item('SKU-009');
      await client.send(ReserveStock, {
        orderId,
        items: [{ sku: 'SKU-009', quantity: 1 }],
        deadline: new Date(Date.now() + 60_000).toISOString(),
      });
      const reserved = await answerFor(orderId, StockReserved.type);
      expect(await item('SKU-009')).toMatchObject({ available: before.available - 1, reserved: before.reserved + 1 });
      // a second reserve command, late: the stock is held, and the saga must hear of it to give it back
      await client.send(ReserveStock, {
        orderId,
        items: [{ sku: 'SKU-009', quantity: 1 }],
        deadline: new Date(Date.now() - 1000).toISOString(),
      });
      await eventually('a second stock-reserved', () => (answersFor(orderId).length === 2 ? true : undefined));
      expect(answersFor(orderId).map((a) => [a.type, a.payload])).toEqual([
        [StockReserved.type, reserved.payload],
        [StockReserved.type, reserved.payload],
      ]);
      expect(await item('SKU-009')).toMatchObject({ available: before.available - 1, reserved: before.reserved + 1 });
    });

    it('says a late reserve is late after a release too', async () => {
      const orderId = randomUUID();
      await client.send(ReleaseStock, { orderId, reason: 'saga timed out' });
      await answerFor(orderId, StockReleased.type);
      await client.send(ReserveStock, {
        orderId,
        items: [{ sku: 'SKU-009', quantity: 1 }],
        deadline: new Date(Date.now() - 1).toISOString(),
      });
      expect((await answerFor(orderId, StockRejected.type)).payload).toMatchObject({
        unavailable: [],
        expired: { deadline: expect.any(String) },
      });
    });
  });

  it('applies a command delivered twice once', async () => {
    const orderId = randomUUID();
    const messageId = randomUUID();
    const command = {
      exchange: names.commandsExchange,
      routingKey: ReserveStock.type,
      type: ReserveStock.type,
      payload: { orderId, items: [{ sku: 'SKU-008', quantity: 4 }] },
      messageId,
    };
    await client.publish(command);
    await client.publish(command);
    await harness.waitForCount('acked', 2, { messageId });
    await answerFor(orderId, StockReserved.type);
    expect(await item('SKU-008')).toMatchObject({ available: 116, reserved: 4 });
    expect(answersFor(orderId)).toHaveLength(1);
  });

  it('never oversells a scarce SKU under 60 concurrent reservations', async () => {
    const start = await item('SKU-012');
    const orders = Array.from({ length: 60 }, (_, i) => ({ orderId: randomUUID(), quantity: (i % 2) + 1 }));
    await Promise.all(
      orders.map((o) =>
        client.send(ReserveStock, {
          orderId: o.orderId,
          items: [
            { sku: 'SKU-012', quantity: o.quantity },
            { sku: 'SKU-010', quantity: 1 },
          ],
        }),
      ),
    );
    const outcomes = await eventually(
      'an answer for every order',
      () => {
        const found = orders.map((o) => ({ ...o, answer: answersFor(o.orderId)[0] }));
        return found.every((f) => f.answer) ? found : undefined;
      },
      20_000,
    );
    const reserved = outcomes.filter((o) => o.answer.type === StockReserved.type);
    const sum = reserved.reduce((s, o) => s + o.quantity, 0);
    expect(reserved.length).toBeGreaterThan(0);
    const after = await item('SKU-012');
    expect(after.available).toBeGreaterThanOrEqual(0);
    expect(after.reserved).toBe(sum);
    expect(after.available + after.reserved).toBe(start.available);
    expect(start.available - sum).toBeLessThan(2); // it filled what it could: at most one unit left over
    // the other line of every rejected order went back
    expect(await item('SKU-010')).toMatchObject({ available: 80 - reserved.length, reserved: reserved.length });
  });

  it('restocks a SKU by hand (admin): available grows by the quantity, and reservations can take the new units', async () => {
    const restock = (
      sku: string,
      body: unknown,
      headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` },
    ) =>
      fetch(`${service.url}/admin/stock/${sku}/restock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const before = await item('SKU-011');
    expect((await restock('SKU-011', { quantity: 5 }, {})).status).toBe(401);
    expect((await restock('SKU-011', { quantity: 5 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    const invalid = await restock('SKU-011', { quantity: 0, extra: 1 });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toMatch(/quantity/);
    expect(JSON.stringify(invalid.body)).toMatch(/extra/);
    expect((await restock('SKU-011', { quantity: 2.5 })).status).toBe(400);
    expect((await restock('not-a-sku', { quantity: 5 })).status).toBe(400);
    expect(await restock('SKU-999', { quantity: 5 })).toEqual({
      status: 404,
      body: expect.objectContaining({ message: 'no SKU SKU-999 in the catalogue' }),
    });
    expect(await item('SKU-011')).toEqual(before); // nothing changed by a refused request
    expect(await restock('SKU-011', { quantity: 1_000 })).toEqual({
      status: 200,
      body: { ...before, available: before.available + 1_000 },
    });
    // every unit is there to reserve: more than the catalogue had at first
    const orderId = randomUUID();
    await client.send(ReserveStock, { orderId, items: [{ sku: 'SKU-011', quantity: before.available + 500 }] });
    expect((await answerFor(orderId, StockReserved.type)).payload).toMatchObject({
      orderId,
      items: [{ sku: 'SKU-011', quantity: before.available + 500 }],
    });
    expect(await item('SKU-011')).toMatchObject({ available: 500, reserved: before.reserved + before.available + 500 });
  });
});
