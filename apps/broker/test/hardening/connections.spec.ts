import * as P from '@warren/amqp-protocol';
import { FrameParser } from '@warren/amqp-protocol';
import * as amqp from 'amqplib';
import { connect, Socket } from 'node:net';
import { RunningBroker, startBroker } from '../../src/testing';
import { RawClient, rawFrame } from '../support/raw-client';
import { eventually } from '../../../../tools/testing/eventually';

/** A plain TCP connection to the broker that sends nothing unless told. */
async function tcp(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const opened = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));
  return { socket, closed };
}

async function served(url: string): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q.queue, Buffer.from('ping'));
  const got = await eventually(
    'the bystander message',
    async () => (await ch.get(q.queue, { noAck: true })) || undefined,
  );
  expect(got.content.toString()).toBe('ping');
  await conn.close();
}

describe('handshake timeout and the bound on connections in their handshake', () => {
  let broker: RunningBroker;

  beforeAll(async () => {
    broker = await startBroker({ handshakeTimeout: 300, maxHandshakes: 4 });
  });
  afterAll(() => broker.close());

  it('drops a connection that sends nothing, after the timeout', async () => {
    const { closed } = await tcp(broker.port);
    const after = await closed;
    expect(after).toBeGreaterThanOrEqual(250);
    expect(after).toBeLessThan(3000);
  });

  it('drops a connection that trickles its handshake a byte at a time', async () => {
    const { socket, closed } = await tcp(broker.port);
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < P.PROTOCOL_HEADER.length && !socket.destroyed) socket.write(P.PROTOCOL_HEADER.subarray(sent, ++sent));
    }, 50);
    const after = await closed;
    clearInterval(trickle);
    expect(sent).toBeGreaterThan(1);
    expect(after).toBeGreaterThanOrEqual(250);
    expect(after).toBeLessThan(3000);
  });

  it('drops a connection stopped after connection.tune, before connection.open', async () => {
    const client = await RawClient.connect(broker.port);
    await client.login({ stopAfterTune: true });
    expect(await client.waitClosed(3000)).toBe(true);
  });

  it('leaves an opened connection alone after the timeout', async () => {
    const client = await RawClient.open(broker.port);
    const { closed } = await tcp(broker.port); // times out beside it
    await closed;
    client.method(1, P.QUEUE_DECLARE, { queue: '', exclusive: true, arguments: new Map() });
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    expect(client.closed).toBe(false);
    client.close();
  });

  it('refuses connections past the bound while others sit in their handshake, and accepts again after', async () => {
    const idle = await Promise.all([0, 1, 2, 3].map(() => tcp(broker.port)));
    await eventually('four handshakes', () => (broker.broker.handshakes === 4 ? true : undefined));
    const extra = await tcp(broker.port);
    const refusedAfter = await extra.closed;
    expect(refusedAfter).toBeLessThan(200); // at once, not after the timeout
    // an established connection is not a handshake: it is unaffected
    await Promise.all(idle.map((c) => c.closed));
    await served(broker.url);
  });
});

describe('a client that does not read what it asks for', () => {
  let broker: RunningBroker;
  const BOUND = 1024 * 1024;

  beforeAll(async () => {
    broker = await startBroker({ maxOutgoingBuffer: BOUND });
  });
  afterAll(() => broker.close());

  it('costs bounded memory: 4,096 pipelined basic.get + basic.reject(requeue) of a 128 KiB message', async () => {
    const client = await RawClient.open(broker.port);
    client.method(1, P.QUEUE_DECLARE, { queue: 'hard-get-loop', exclusive: true, arguments: new Map() });
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    const body = Buffer.alloc(128 * 1024, 7);
    client.publish(1, '', 'hard-get-loop', Buffer.from([0, 0]), body);

    // From here on the client reads nothing: its socket is paused and a counting parser replaces the recorder.
    const socket = client.socket;
    socket.removeAllListeners('data');
    socket.pause();
    const rounds = 4096;
    const requests = new P.FrameWriter();
    for (let tag = 1; tag <= rounds; tag++) {
      requests.method(1, P.BASIC_GET, { queue: 'hard-get-loop', noAck: false });
      requests.method(1, P.BASIC_REJECT, { deliveryTag: tag, requeue: true });
    }
    const before = process.memoryUsage().arrayBuffers;
    socket.write(requests.take());

    const connection = () => [...broker.broker.connections].find((c) => c.bufferedBytes > 0);
    await eventually('the broker to stop reading the connection', () => (connection() ? true : undefined));
    // whatever the client asked for, the broker holds about the bound plus one message, not 4,096 copies
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, connection()?.bufferedBytes ?? 0);
      await new Promise((r) => setImmediate(r));
    }
    expect(peak).toBeLessThan(BOUND + 2 * body.length + 64 * 1024);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
    await served(broker.url); // others are served meanwhile

    // Once the client reads again, every answer arrives: nothing was dropped.
    let gets = 0;
    const parser = new FrameParser(1024 * 1024);
    socket.on('data', (chunk: Buffer) =>
      parser.push(chunk, (type, _channel, payload) => {
        if (type === P.FRAME_METHOD && payload.readUInt32BE(0) === P.BASIC_GET_OK) gets++;
      }),
    );
    socket.resume();
    await eventually('every basic.get-ok', () => (gets === rounds ? true : undefined), 60_000);
    client.close();
  }, 90_000);
});

describe('input that cannot be re-encoded or is nested too deep', () => {
  let broker: RunningBroker;

  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  /** queue.declare with raw argument-table bytes. */
  function declareFrame(name: Buffer, table: Buffer): Buffer {
    const args = Buffer.concat([Buffer.from([0, 0, name.length]), name, Buffer.from([0]), table]);
    return rawFrame(P.FRAME_METHOD, 1, Buffer.concat([Buffer.from([0, 50, 0, 10]), args]));
  }

  /** A table holding one entry 'x' that nests `depth` tables (or arrays) deep. */
  function nested(depth: number, kind: 'F' | 'A'): Buffer {
    let value = Buffer.from('V');
    for (let i = 0; i < depth; i++) {
      const inner = kind === 'F' ? Buffer.concat([Buffer.from([1, 0x61]), value]) : value;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(inner.length);
      value = Buffer.concat([Buffer.from(kind), length, inner]);
    }
    const entries = Buffer.concat([Buffer.from([1, 0x78]), value]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(entries.length);
    return Buffer.concat([length, entries]);
  }

  it.each(['F', 'A'] as const)('closes with 501, not 541, on arguments nested 3,500 levels deep (%s)', async (kind) => {
    const client = await RawClient.open(broker.port);
    client.write(declareFrame(Buffer.from('hard-deep'), nested(3500, kind)));
    const close = await client.waitForMethod(P.CONNECTION_CLOSE);
    const args = close.method!.args as P.ConnectionCloseArgs;
    expect(args).toMatchObject({ replyCode: 501, classId: 0, methodId: 0 });
    expect(args.replyText).toBe('FRAME_ERROR - field tables and arrays nested deeper than 128 levels');
    await served(broker.url);
  });

  it('accepts arguments nested as deep as the documented limit', async () => {
    const client = await RawClient.open(broker.port);
    client.write(declareFrame(Buffer.from('hard-deep-ok'), nested(127, 'F')));
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    client.close();
  });

  it('closes with 501 on publish headers nested 3,500 levels deep', async () => {
    const client = await RawClient.open(broker.port);
    const flags = Buffer.from([0x20, 0]); // headers only
    client.publish(1, '', 'nowhere', Buffer.concat([flags, nested(3500, 'F')]), Buffer.from('x'));
    const close = await client.waitForMethod(P.CONNECTION_CLOSE);
    expect(close.method!.args).toMatchObject({ replyCode: 501, classId: 0, methodId: 0 });
    await served(broker.url);
  });

  it('refuses a queue name of 255 bytes of invalid UTF-8 with 501, as RabbitMQ', async () => {
    const client = await RawClient.open(broker.port);
    const empty = Buffer.alloc(4);
    client.write(declareFrame(Buffer.alloc(255, 0xff), empty));
    const close = await client.waitForMethod(P.CONNECTION_CLOSE);
    expect(close.method!.args).toMatchObject({
      replyCode: 501,
      replyText: 'FRAME_ERROR - Malformed UTF-8 in shortstr',
    });
    await served(broker.url);
  });

  it('delivers a message with BCC and a timestamp of 2^64 - 1, its other properties byte for byte', async () => {
    const client = await RawClient.open(broker.port);
    client.method(1, P.QUEUE_DECLARE, { queue: 'hard-bcc', exclusive: true, arguments: new Map() });
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    const headers = (entries: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(entries.length);
      return Buffer.concat([length, entries]);
    };
    const bcc = Buffer.concat([
      Buffer.from([3]),
      Buffer.from('BCC'),
      Buffer.from('A'),
      headers(Buffer.concat([Buffer.from('S'), Buffer.from([0, 0, 0, 8]), Buffer.from('hard-bcc')])),
    ]);
    const long = Buffer.concat([Buffer.from([1, 0x6c, 0x6c]), Buffer.from('7fffffffffffffff', 'hex')]);
    const invalidText = Buffer.concat([Buffer.from([1, 0x53, 0x53, 0, 0, 0, 3, 0x61, 0xff, 0xc3])]);
    const messageId = Buffer.from([3, 0x61, 0xff, 0x62]);
    const timestamp = Buffer.from('ffffffffffffffff', 'hex');
    const flags = Buffer.alloc(2);
    flags.writeUInt16BE(P.FLAG_HEADERS | P.FLAG_MESSAGE_ID | P.FLAG_TIMESTAMP);
    const sent = Buffer.concat([flags, headers(Buffer.concat([long, invalidText, bcc])), messageId, timestamp]);
    client.publish(1, '', 'elsewhere', sent, Buffer.from('x'));
    const from = client.frames.length;
    client.method(1, P.BASIC_GET, { queue: 'hard-bcc', noAck: true });
    const header = await client.waitFor((f) => f.type === P.FRAME_HEADER, 3000, from);
    const expected = Buffer.concat([flags, headers(Buffer.concat([long, invalidText])), messageId, timestamp]);
    expect(header?.payload.subarray(12).toString('hex')).toBe(expected.toString('hex'));
    client.close();
  });

  it('reads properties as RabbitMQ does (the continuation bit ignored), so dead-lettering them works (fuzzer find)', async () => {
    // flags 0xd421: content-type, content-encoding, delivery-mode, correlation-id, type and the continuation
    // bit, with the list right after the first word. Read as "a second flags word follows", the list came out
    // short; the message was let through unread and its rejection into a dead-letter queue closed the
    // rejecting consumer's connection with 502.
    const client = await RawClient.open(broker.port);
    client.method(1, P.QUEUE_DECLARE, { queue: 'hard-dead', exclusive: true, arguments: new Map() });
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    const dlx = P.tableFromPlain({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'hard-dead' });
    client.method(1, P.QUEUE_DECLARE, { queue: 'hard-dlx', exclusive: true, arguments: dlx });
    await client.waitForMethod(P.QUEUE_DECLARE_OK, 3000, client.frames.length - 1);
    const props = Buffer.from('d4210a66757a7a2de298832d3700020a66757a7a2d70726f70730a66757a7a2d70726f7073', 'hex');
    client.publish(1, '', 'hard-dlx', props, Buffer.from('x'));
    let from = client.frames.length;
    client.method(1, P.BASIC_GET, { queue: 'hard-dlx', noAck: false });
    const got = await client.waitForMethod(P.BASIC_GET_OK, 3000, from);
    client.method(1, P.BASIC_REJECT, {
      deliveryTag: (got.method!.args as P.BasicGetOkArgs).deliveryTag,
      requeue: false,
    });
    from = client.frames.length;
    client.method(1, P.BASIC_GET, { queue: 'hard-dead', noAck: true });
    await client.waitForMethod(P.BASIC_GET_OK, 3000, from);
    const header = await client.waitFor((f) => f.type === P.FRAME_HEADER, 3000, from);
    // dead-lettering rewrote the properties (x-death added): the flags lost the continuation bit, nothing else
    const decoded = P.decodeBasicProperties(header!.payload.subarray(12));
    expect(decoded).toMatchObject({
      contentType: 'fuzz-☃-7',
      contentEncoding: '',
      deliveryMode: 2,
      correlationId: 'fuzz-props',
      type: 'fuzz-props',
    });
    expect(decoded.headers?.get('x-death')?.type).toBe('A');
    expect(client.closed).toBe(false);
    client.close();
  });

  it('delivers a routing key of 255 bytes of invalid UTF-8 as it came', async () => {
    const client = await RawClient.open(broker.port);
    client.method(1, P.QUEUE_DECLARE, { queue: 'hard-key', exclusive: true, arguments: new Map() });
    await client.waitForMethod(P.QUEUE_DECLARE_OK);
    client.method(1, P.QUEUE_BIND, { queue: 'hard-key', exchange: 'amq.fanout', routingKey: '', arguments: new Map() });
    await client.waitForMethod(P.QUEUE_BIND_OK);
    const key = Buffer.alloc(255, 0xff);
    const publish = Buffer.concat([
      Buffer.from([0, 60, 0, 40, 0, 0, 10]),
      Buffer.from('amq.fanout'),
      Buffer.from([255]),
      key,
      Buffer.from([0]),
    ]);
    const frame = rawFrame(P.FRAME_METHOD, 1, publish);
    const writer = new P.FrameWriter();
    writer.headerRaw(1, P.ClassId.basic, 1, Buffer.from([0, 0]));
    writer.body(1, Buffer.from('x'), 131072);
    client.write(Buffer.concat([frame, writer.take()]));
    const from = client.frames.length;
    client.method(1, P.BASIC_GET, { queue: 'hard-key', noAck: true });
    const ok = await client.waitForMethod(P.BASIC_GET_OK, 3000, from);
    // the get-ok's routing key is the last shortstr before message-count: compare the raw bytes
    const raw = ok.payload;
    expect(raw.subarray(raw.length - 4 - 256, raw.length - 4).equals(Buffer.concat([Buffer.from([255]), key]))).toBe(
      true,
    );
    client.close();
  });
});
