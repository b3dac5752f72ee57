// The x-delayed-message exchange (RabbitMQ's delayed-message plugin, built in): routing when due, the plugin's
// quirks (mandatory, alternate exchange, x-delay parsing), restarts, deletion, and that held messages live on
// disk rather than in the JS heap. The wire-level behaviour against RabbitMQ is in
// compat/scenarios/delayed-message.scenarios.ts; SIGKILL is in delayed-crash.spec.ts.
import { encodeBasicProperties, tableFromPlain } from '@warren/amqp-protocol';
import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DelayScheduler } from '../src/exchange/delay-scheduler';
import { DelayedExchange, delayOf, MAX_DELAY } from '../src/exchange/delayed';
import { Message } from '../src/message';
import { Storage } from '../src/storage/storage';
import { RunningBroker, startBroker } from '../src/testing';

jest.setTimeout(30_000);

const msg = (headers?: Record<string, unknown>) =>
  new Message('x', 'k', encodeBasicProperties(headers ? { headers: tableFromPlain(headers) } : {}), Buffer.alloc(0));
const withHeader = (value: { type: string; value: unknown }) =>
  new Message('x', 'k', encodeBasicProperties({ headers: new Map([['x-delay', value as never]]) }), Buffer.alloc(0));

describe('delayOf: x-delay as the plugin reads it', () => {
  it.each([
    ['no headers', msg(), undefined],
    ['no x-delay', msg({ other: 5 }), undefined],
    ['a positive integer', msg({ 'x-delay': 500 }), 500],
    ['0', msg({ 'x-delay': 0 }), undefined],
    ['negative', msg({ 'x-delay': -500 }), undefined],
    ['2^32-1 (the Erlang timer limit)', withHeader({ type: 'l', value: MAX_DELAY }), MAX_DELAY],
    ['2^32 (past it)', withHeader({ type: 'l', value: 2 ** 32 }), undefined],
    ['a byte', withHeader({ type: 'b', value: 7 }), 7],
    ['an unsigned short', withHeader({ type: 'u', value: 60000 }), 60000],
    ['a string integer', msg({ 'x-delay': '250' }), 250],
    ['a string with a sign', msg({ 'x-delay': '+250' }), 250],
    ['a negative string', msg({ 'x-delay': '-250' }), undefined],
    ['a huge string', msg({ 'x-delay': '99999999999999999999' }), undefined],
    ['a float (truncated)', withHeader({ type: 'd', value: 250.9 }), 250],
    ['a float below 1', withHeader({ type: 'f', value: 0.5 }), undefined],
    ['a boolean', msg({ 'x-delay': true }), undefined],
    ['a timestamp', withHeader({ type: 'T', value: 1000 }), undefined],
    ['a byte array', withHeader({ type: 'x', value: Buffer.from('100') }), undefined],
  ])('%s', (_name, message, expected) => {
    expect(delayOf(message)).toBe(expected);
  });

  it.each([
    ['a string that is not an integer', msg({ 'x-delay': '1.5' })],
    ['an empty string', msg({ 'x-delay': '' })],
    ['a decimal', withHeader({ type: 'D', value: { places: 1, digits: 15 } })],
    ['a NaN float', withHeader({ type: 'd', value: NaN })],
  ])('%s: 541 on the connection (the plugin crashes converting it)', (_name, message) => {
    expect(() => delayOf(message)).toThrow(expect.objectContaining({ name: 'ConnectionError', code: 541 }));
  });
});

describe('x-delayed-message exchange', () => {
  let broker: RunningBroker;
  let conn: amqp.ChannelModel;
  let dataDir: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-delayed-'));
    broker = await startBroker({ dataDir });
    conn = await amqp.connect(broker.url);
  });
  afterEach(async () => {
    await conn?.close().catch(() => undefined);
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const delayed = (ch: amqp.Channel, name: string, type = 'direct', durable = false) =>
    ch.assertExchange(name, 'x-delayed-message', { durable, arguments: { 'x-delayed-type': type } });

  /** Consumes `n` messages, recording when each arrived. */
  async function receive(
    ch: amqp.Channel,
    queue: string,
    n: number,
    timeoutMs = 10_000,
  ): Promise<{ body: string; at: number; msg: amqp.ConsumeMessage }[]> {
    const got: { body: string; at: number; msg: amqp.ConsumeMessage }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${got.length} of ${n} messages within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void ch.consume(
        queue,
        (m) => {
          if (!m) return;
          got.push({ body: m.content.toString(), at: Date.now(), msg: m });
          if (got.length === n) {
            clearTimeout(timer);
            resolve();
          }
        },
        { noAck: true },
      );
    });
    return got;
  }

  it('routes by its x-delayed-type when due, in due order, never early; no x-delay routes at once', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx', 'topic');
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'dx', 'a.*');
    const sent = Date.now();
    const delays = [600, 200, 400, 200, 0];
    delays.forEach((d, i) => ch.publish('dx', 'a.b', Buffer.from(`${d}:${i}`), { headers: { 'x-delay': d } }));
    ch.publish('dx', 'b.c', Buffer.from('unmatched'), { headers: { 'x-delay': 100 } });
    await ch.waitForConfirms();
    const got = await receive(ch, q, 5);
    expect(got.map((g) => g.body)).toEqual(['0:4', '200:1', '200:3', '400:2', '600:0']);
    for (const g of got) expect(g.at - sent).toBeGreaterThanOrEqual(Number(g.body.split(':')[0]));
    // consumers see the publisher's header unchanged (the plugin's negated value stays internal)
    expect(got[1].msg.properties.headers).toEqual({ 'x-delay': 200 });
    expect(got[1].msg.fields).toMatchObject({ exchange: 'dx', routingKey: 'a.b', redelivered: false });
    expect(broker.broker.vhost('/')!.delays.pending).toBe(0);
  });

  it('held messages count as routed nowhere: mandatory returns them at once (and the confirm is an ack)', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx');
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'dx', 'k');
    const events: string[] = [];
    ch.on('return', (m) => events.push(`return:${(m.fields as { replyCode?: number }).replyCode}:${m.content}`));
    ch.publish('dx', 'k', Buffer.from('held'), { headers: { 'x-delay': 100 }, mandatory: true }, (err) =>
      events.push(err ? 'nack' : 'ack'),
    );
    await ch.waitForConfirms();
    expect(events).toEqual(['return:312:held', 'ack']);
    // and it is still delivered when due
    expect((await receive(ch, q, 1)).map((g) => g.body)).toEqual(['held']);
  });

  it('held messages go to the alternate exchange at once, and again when due if nothing matches then', async () => {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('ae', 'fanout', { durable: false });
    await ch.assertExchange('dx', 'x-delayed-message', {
      durable: false,
      arguments: { 'x-delayed-type': 'direct', 'alternate-exchange': 'ae' },
    });
    const aeq = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(aeq, 'ae', '');
    const returns: string[] = [];
    ch.on('return', (m) => returns.push(m.content.toString()));
    ch.publish('dx', 'k', Buffer.from('held'), { headers: { 'x-delay': 150 }, mandatory: true });
    await ch.waitForConfirms();
    const got = await receive(ch, aeq, 2);
    expect(got.map((g) => g.body)).toEqual(['held', 'held']);
    expect(got[1].at - got[0].at).toBeGreaterThanOrEqual(100);
    expect(returns).toEqual([]);
  });

  it('routes CC and BCC keys when due; BCC never reaches the consumer', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx');
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map(async () => (await ch.assertQueue('', { exclusive: true })).queue),
    );
    await ch.bindQueue(a, 'dx', 'a');
    await ch.bindQueue(b, 'dx', 'b');
    await ch.bindQueue(c, 'dx', 'c');
    ch.publish('dx', 'a', Buffer.from('m'), { headers: { 'x-delay': 100 }, CC: ['b'], BCC: ['c'] });
    await ch.waitForConfirms();
    const [ga, gb, gc] = await Promise.all([receive(ch, a, 1), receive(ch, b, 1), receive(ch, c, 1)]);
    for (const g of [ga, gb, gc]) expect(g[0].msg.properties.headers).toEqual({ 'x-delay': 100, CC: ['b'] });
  });

  it('declare: 406 without x-delayed-type or naming itself, 503 for an unknown one; redeclare checks only the usual', async () => {
    const attempt = async (args: Record<string, unknown>) => {
      const c = await amqp.connect(broker.url);
      let connectionError: Error | undefined;
      c.on('error', (e) => (connectionError = e));
      const ch = await c.createChannel();
      ch.on('error', () => undefined);
      try {
        await ch.assertExchange('bad', 'x-delayed-message', { durable: false, arguments: args });
        return 'ok';
      } catch (e) {
        if (!connectionError && /Channel ended/.test((e as Error).message))
          await new Promise((r) => c.once('close', r));
        return (connectionError ?? (e as Error)).message;
      } finally {
        if (!connectionError) await c.close().catch(() => undefined);
      }
    };
    expect(await attempt({})).toMatch(
      /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type"/,
    );
    expect(await attempt({ 'x-delayed-type': 5 })).toMatch(/406.*must be an existing exchange type/);
    expect(await attempt({ 'x-delayed-type': 'x-delayed-message' })).toMatch(
      /406.*'x-delayed-message' can't be used for 'x-delayed-type'/,
    );
    expect(await attempt({ 'x-delayed-type': 'nope' })).toMatch(/503.*unknown exchange type 'nope'/);
    expect(broker.broker.vhost('/')!.exchanges.has('bad')).toBe(false);
    const ch = await conn.createChannel();
    await delayed(ch, 'dx', 'fanout');
    // as in the plugin, x-delayed-type is not compared on redeclaration
    await delayed(ch, 'dx', 'topic');
    expect((broker.broker.vhost('/')!.exchanges.get('dx') as DelayedExchange).baseType).toBe('fanout');
  });

  it('headers as the underlying type: x-match validated on bind, headers routing when due', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx', 'headers');
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(q, 'dx', '', { 'x-match': 'any', kind: 'a' });
    ch.publish('dx', '', Buffer.from('no'), { headers: { 'x-delay': 50, kind: 'b' } });
    ch.publish('dx', '', Buffer.from('yes'), { headers: { 'x-delay': 50, kind: 'a' } });
    await ch.waitForConfirms();
    expect((await receive(ch, q, 1)).map((g) => g.body)).toEqual(['yes']);
    const bad = await conn.createChannel();
    const closed = new Promise<Error>((resolve) => bad.on('error', resolve));
    await expect(bad.bindQueue(q, 'dx', '', { 'x-match': 'some' })).rejects.toThrow(/406/);
    expect((await closed).message).toMatch(/Invalid x-match field value/);
  });

  it('a string x-delay that is not an integer closes the connection with 541', async () => {
    const c = await amqp.connect(broker.url);
    const closed = new Promise<Error>((resolve) => c.on('error', resolve));
    const ch = await c.createChannel();
    ch.on('error', () => undefined);
    await delayed(ch, 'dx');
    ch.publish('dx', 'k', Buffer.from('m'), { headers: { 'x-delay': 'soon' } });
    expect((await closed).message).toMatch(/541/);
    // the vhost's routing is not left in a bad state
    const ok = await conn.createConfirmChannel();
    const q = (await ok.assertQueue('', { exclusive: true })).queue;
    await ok.bindQueue(q, 'dx', 'k');
    ok.publish('dx', 'k', Buffer.from('fine'), { headers: { 'x-delay': 10 } });
    expect((await receive(ok, q, 1)).map((g) => g.body)).toEqual(['fine']);
  });

  it('deleting the exchange drops what it holds (and its log)', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx', 'direct', true);
    for (let i = 0; i < 10; i++)
      ch.publish('dx', 'k', Buffer.from('m'), { headers: { 'x-delay': 60_000 }, persistent: true });
    await ch.waitForConfirms();
    const vhost = broker.broker.vhost('/')!;
    expect(vhost.delays.pending).toBe(10);
    expect((vhost.exchanges.get('dx') as DelayedExchange).pending).toBe(10);
    await ch.deleteExchange('dx');
    expect(vhost.delays.pending).toBe(0);
    expect(vhost.delays.nextDue).toBe(Infinity);
  });

  it('durable: persistent held messages come back after a restart and are routed at their original due time; transient ones do not', async () => {
    const ch = await conn.createConfirmChannel();
    await delayed(ch, 'dx', 'direct', true);
    await ch.assertQueue('dq', { durable: true });
    await ch.bindQueue('dq', 'dx', 'k');
    const sent = Date.now();
    ch.publish('dx', 'k', Buffer.from('late'), { headers: { 'x-delay': 300 }, persistent: true });
    ch.publish('dx', 'k', Buffer.from('later'), { headers: { 'x-delay': 2500 }, persistent: true });
    ch.publish('dx', 'k', Buffer.from('transient'), { headers: { 'x-delay': 300 } });
    await ch.waitForConfirms();
    await conn.close();
    const port = broker.port;
    await broker.close();
    // down past the first message's due time
    await new Promise((r) => setTimeout(r, 600));
    broker = await startBroker({ dataDir, port });
    const started = Date.now();
    conn = await amqp.connect(broker.url);
    const ch2 = await conn.createChannel();
    const got = await receive(ch2, 'dq', 2);
    expect(got.map((g) => g.body)).toEqual(['late', 'later']);
    expect(got[0].at - started).toBeLessThan(1000); // overdue: right after start
    expect(got[1].at - sent).toBeGreaterThanOrEqual(2500);
    expect(got[1].at - sent).toBeLessThan(2500 + 1000);
    expect(broker.broker.vhost('/')!.delays.pending).toBe(0);
  });
});

describe('DelayScheduler storage', () => {
  it('keeps held messages on disk: 200,000 of them add little to the JS heap, and all come out in due order', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const dir = mkdtempSync(join(tmpdir(), 'warren-delay-heap-'));
    const routed: string[] = [];
    const router = {
      route: (_x: unknown, m: Message) => {
        routed.push(m.routingKey);
        return [];
      },
    };
    try {
      const scheduler = new DelayScheduler(router as never, new Storage(dir, () => undefined));
      const exchange = new DelayedExchange(
        'dx',
        {
          durable: true,
          autoDelete: false,
          internal: false,
          arguments: tableFromPlain({ 'x-delayed-type': 'direct' }),
        },
        scheduler,
      );
      scheduler.recover([exchange]);
      const props = encodeBasicProperties({ deliveryMode: 2 });
      const body = Buffer.alloc(200, 1);
      const start = Date.now();
      const realNow = Date.now;
      Date.now = () => start; // a fixed clock (a jest spy would keep every call)
      gc();
      const before = process.memoryUsage().heapUsed;
      const N = 200_000;
      for (let i = 0; i < N; i++)
        scheduler.hold(exchange, new Message('dx', `k${i}`, props, body), 3_600_000 + ((i * 7919) % N));
      await new Promise((r) => setImmediate(r));
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      Date.now = realNow;
      expect(scheduler.pending).toBe(N);
      // 200,000 Message objects with their buffers would be well over 40 MB
      if (process.env.DELAY_PRINT) console.log(`heap grown by ${grown} bytes`);
      expect(grown).toBeLessThan(8 * 1024 * 1024);
      scheduler.close();
      // restart: every one recovered; make them all due now by recovering with the clock moved on
      const later = start + 3_600_000 + N + 1;
      Date.now = () => later;
      try {
        const again = new DelayScheduler(router as never, new Storage(dir, () => undefined));
        const x2 = new DelayedExchange('dx', exchange.options, again);
        again.recover([x2]);
        expect(again.pending).toBe(N);
        expect(x2.pending).toBe(N);
        await new Promise<void>((resolve) => {
          const poll = () => (again.pending === 0 ? resolve() : setTimeout(poll, 10));
          poll();
        });
        again.close();
      } finally {
        Date.now = realNow;
      }
      expect(routed).toHaveLength(N);
      const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => ((a * 7919) % N) - ((b * 7919) % N) || a - b);
      expect(routed.slice(0, 5)).toEqual(order.slice(0, 5).map((i) => `k${i}`));
      expect(routed).toEqual(order.map((i) => `k${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
