import fc from 'fast-check';
import {
  BASIC_DELIVER,
  BASIC_PUBLISH,
  CHANNEL_OPEN,
  decodeBasicProperties,
  decodeContentHeader,
  decodeMethod,
  encodeBasicProperties,
  encodeMethodFrame,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_OVERHEAD,
  FrameParser,
  FrameWriter,
  PROTOCOL_HEADER,
} from './index';
import { amqplibDefs } from './testing/amqplib-oracle';
import { anyMethod, basicProperties } from './testing/arbitraries';
import { protocolError } from './testing/protocol-error';
import { frameBytes, type Frame } from './testing/frames';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Pushes chunks through a parser and collects copies of the frames. */
function parseAll(chunks: Buffer[], parser = new FrameParser()): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    parser.push(chunk, (type, channel, payload) => frames.push({ type, channel, payload: Buffer.from(payload) }));
  }
  return frames;
}

const frameArb: fc.Arbitrary<Frame> = fc.record({
  type: fc.constantFrom(FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT),
  channel: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

describe('constants', () => {
  it('match the spec', () => {
    expect(PROTOCOL_HEADER).toEqual(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    expect([FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT, FRAME_END, FRAME_OVERHEAD]).toEqual([
      1, 2, 3, 8, 0xce, 8,
    ]);
  });
});

describe('FrameWriter', () => {
  it('writes a heartbeat', () => {
    const w = new FrameWriter();
    w.heartbeat();
    expect(w.length).toBe(8);
    expect(w.take()).toEqual(hex('08 00 00 00 00 00 00 ce'));
    expect(w.length).toBe(0);
    expect(w.take()).toHaveLength(0);
  });

  it('writes a channel.open frame', () => {
    const w = new FrameWriter();
    w.method(1, CHANNEL_OPEN, {});
    expect(w.take()).toEqual(hex('01 0001 00000005 0014 000a 00 ce'));
  });

  it('batches a delivery (method, header, body) into one buffer, as amqplib would frame it', () => {
    const w = new FrameWriter(16);
    const deliver = { consumerTag: 'c1', deliveryTag: 42, redelivered: false, exchange: 'ex', routingKey: 'rk' };
    const props = { contentType: 'text/plain', deliveryMode: 2 };
    w.method(5, BASIC_DELIVER, deliver);
    w.header(5, 60, 11, props);
    w.body(5, Buffer.from('hello world'), 4096);
    const out = w.take();
    const body = frameBytes({ type: FRAME_BODY, channel: 5, payload: Buffer.from('hello world') });
    expect(out).toEqual(
      Buffer.concat([
        amqplibDefs.encodeMethod(BASIC_DELIVER, 5, deliver),
        amqplibDefs.encodeProperties(60, 5, 11, props),
        body,
      ]),
    );
    // header frame by hand: class 60, weight 0, size 11, flags 0x9000, 'text/plain', delivery-mode 2
    const header = hex('02 0005 0000001a 003c 0000 000000000000000b 9000 0a 746578742f706c61696e 02 ce');
    expect(out.includes(header)).toBe(true);
  });

  it('forwards raw properties unchanged', () => {
    const raw = encodeBasicProperties({ messageId: 'm', headers: new Map([['k', { type: 'u', value: 7 }]]) });
    const w = new FrameWriter();
    w.headerRaw(9, 60, 2 ** 40, raw);
    const [frame] = parseAll([w.take()]);
    expect(frame.type).toBe(FRAME_HEADER);
    expect(frame.channel).toBe(9);
    const header = decodeContentHeader(frame.payload);
    expect(header).toEqual({ classId: 60, weight: 0, bodySize: 2 ** 40, properties: raw });
  });

  it('splits a body into frames of at most frameMax - 8 payload bytes', () => {
    const w = new FrameWriter();
    w.body(2, Buffer.from('0123456789'), 12);
    expect(w.take()).toEqual(
      hex(`03 0002 00000004 30313233 ce
           03 0002 00000004 34353637 ce
           03 0002 00000002 3839 ce`),
    );
    w.body(2, Buffer.from('01234567'), 12);
    expect(parseAll([w.take()]).map((f) => f.payload.toString())).toEqual(['0123', '4567']);
  });

  it('writes no frame for an empty body, one frame with frameMax 0, and refuses tiny frameMax', () => {
    const w = new FrameWriter();
    w.body(1, Buffer.alloc(0), 4096);
    w.body(1, Buffer.alloc(0), 0);
    expect(w.length).toBe(0);
    w.body(1, Buffer.alloc(100_000, 1), 0);
    expect(parseAll([w.take()], new FrameParser(200_000)).map((f) => f.payload.length)).toEqual([100_000]);
    expect(() => w.body(1, Buffer.from('x'), 8)).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });

  it('hands out buffers it no longer writes to, small and large', () => {
    const w = new FrameWriter(64);
    w.heartbeat();
    const small = w.take();
    w.body(1, Buffer.alloc(100_000, 7), 131072);
    const large = w.take();
    w.body(1, Buffer.alloc(100_000, 9), 131072);
    w.heartbeat();
    const again = w.take();
    expect(small).toEqual(hex('08 0000 00000000 ce'));
    expect(large.subarray(7, 100_007).every((b) => b === 7)).toBe(true);
    expect(again.subarray(7, 100_007).every((b) => b === 9)).toBe(true);
    expect(again.length).toBe(100_008 + 8);
  });

  it('leaves pending frames intact when an encoding fails', () => {
    const w = new FrameWriter(8);
    w.heartbeat();
    const rangeError = expect.objectContaining({ name: 'RangeError' });
    expect(() => w.method(1, BASIC_PUBLISH, { exchange: 'x', routingKey: 'k'.repeat(300) })).toThrow(rangeError);
    expect(() => w.header(1, 60, 0, { priority: 256 })).toThrow(rangeError);
    expect(() => w.method(1, (60 << 16) | 99, {})).toThrow(rangeError);
    expect(w.length).toBe(8);
    w.heartbeat();
    expect(parseAll([w.take()]).map((f) => f.type)).toEqual([FRAME_HEARTBEAT, FRAME_HEARTBEAT]);
  });

  it('grows from a tiny buffer, writing the same bytes as one-shot encoding', () => {
    fc.assert(
      fc.property(fc.array(anyMethod(), { maxLength: 20 }), (methods) => {
        const w = new FrameWriter(1);
        methods.forEach(({ id, args }, i) => w.method(i, id, args));
        expect(w.take()).toEqual(Buffer.concat(methods.map(({ id, args }, i) => encodeMethodFrame(i, id, args))));
      }),
      { numRuns: 200 },
    );
  });

  it('writes content that parses back to the same method, properties and body', () => {
    fc.assert(
      fc.property(
        basicProperties(),
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 9, max: 2000 }),
        (props, bytes, frameMax) => {
          const body = Buffer.from(bytes);
          const w = new FrameWriter(32);
          w.method(7, BASIC_PUBLISH, { exchange: 'x', routingKey: 'k' });
          w.header(7, 60, body.length, props);
          w.body(7, body, frameMax);
          const frames = parseAll([w.take()], new FrameParser(1 << 20));
          expect(decodeMethod(frames[0].payload).id).toBe(BASIC_PUBLISH);
          const header = decodeContentHeader(frames[1].payload);
          expect(header.bodySize).toBe(body.length);
          expect(decodeBasicProperties(header.properties)).toEqual(props);
          const bodyFrames = frames.slice(2);
          expect(
            bodyFrames.every((f) => f.type === FRAME_BODY && f.channel === 7 && f.payload.length <= frameMax - 8),
          ).toBe(true);
          expect(bodyFrames.length).toBe(Math.ceil(body.length / (frameMax - 8)));
          expect(Buffer.concat(bodyFrames.map((f) => f.payload))).toEqual(body);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('FrameParser', () => {
  const frames: Frame[] = [
    { type: FRAME_METHOD, channel: 1, payload: hex('0014 000a 00') },
    { type: FRAME_HEARTBEAT, channel: 0, payload: Buffer.alloc(0) },
    { type: FRAME_BODY, channel: 65535, payload: Buffer.from('body bytes') },
  ];
  const stream = Buffer.concat(frames.map(frameBytes));

  it('emits every frame of a chunk in order, as subarrays of the chunk', () => {
    const seen: Frame[] = [];
    new FrameParser().push(stream, (type, channel, payload) => {
      expect(payload.buffer).toBe(stream.buffer);
      seen.push({ type, channel, payload });
    });
    expect(seen).toEqual(frames);
  });

  it('assembles frames split across chunks, down to single bytes', () => {
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(parseAll(bytes)).toEqual(frames);
    expect(parseAll([stream.subarray(0, 3), stream.subarray(3, 20), stream.subarray(20)])).toEqual(frames);
  });

  it('gives the same frames for any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (list, cuts) => {
        const all = Buffer.concat(list.map(frameBytes));
        const points = [...new Set(cuts.map((c) => (all.length ? c % (all.length + 1) : 0)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((from, i, a) => all.subarray(from, a[i + 1] ?? all.length));
        expect(parseAll(chunks)).toEqual(list);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a frame of exactly maxFrameSize and rejects a larger one with 501 before its payload arrives', () => {
    const parser = new FrameParser(4096);
    const ok = frameBytes({ type: FRAME_BODY, channel: 1, payload: Buffer.alloc(4088) });
    expect(parseAll([ok], parser)).toHaveLength(1);
    const tooBig = frameBytes({ type: FRAME_BODY, channel: 1, payload: Buffer.alloc(4089) });
    parser.push(tooBig.subarray(0, 3), () => undefined);
    const err = protocolError(() => parser.push(tooBig.subarray(3, 7), () => undefined));
    expect(err.code).toBe(501);
    expect(err.message).toMatch(/4097.*4096/);
    expect(protocolError(() => new FrameParser(4096).push(tooBig, () => undefined)).code).toBe(501);
  });

  it('applies a changed maxFrameSize to the following frames', () => {
    const parser = new FrameParser();
    const frame = frameBytes({ type: FRAME_BODY, channel: 1, payload: Buffer.alloc(100) });
    parser.push(frame, () => {
      parser.maxFrameSize = 50;
    });
    expect(parser.maxFrameSize).toBe(50);
    expect(protocolError(() => parser.push(frame, () => undefined)).code).toBe(501);
  });

  it('rejects a bad frame-end octet with 501, whole or split, and is unusable afterwards', () => {
    const bad = Buffer.from(stream);
    bad[7 + 5] = 0x00; // frame-end of the first frame
    const whole = new FrameParser();
    expect(protocolError(() => whole.push(bad, () => undefined)).code).toBe(501);
    expect(protocolError(() => whole.push(stream, () => undefined)).code).toBe(501);

    const split = new FrameParser();
    split.push(bad.subarray(0, 10), () => undefined);
    const err = protocolError(() => split.push(bad.subarray(10), () => undefined));
    expect(err.code).toBe(501);
    expect(err.message).toMatch(/frame-end/);
  });

  it('becomes unusable when onFrame throws', () => {
    const parser = new FrameParser();
    expect(() =>
      parser.push(stream, () => {
        throw new Error('handler failed');
      }),
    ).toThrow('handler failed');
    expect(protocolError(() => parser.push(stream, () => undefined)).code).toBe(501);
  });

  it('parses what amqplib frames', () => {
    fc.assert(
      fc.property(fc.array(anyMethod(), { minLength: 1, maxLength: 5 }), fc.nat(), (methods, cut) => {
        fc.pre(methods.every(({ args }) => Object.values(args).every((v) => !(v instanceof Map))));
        const all = Buffer.concat(
          methods.map(({ id, args }) =>
            amqplibDefs.encodeMethod(
              id,
              3,
              Object.fromEntries(
                amqplibDefs.info(id).args.map((a, i) => {
                  const v = Object.values(args)[i];
                  return [a.name, typeof v === 'string' && a.type === 'longstr' ? Buffer.from(v) : v];
                }),
              ),
            ),
          ),
        );
        const at = cut % (all.length + 1);
        const got = parseAll([all.subarray(0, at), all.subarray(at)]);
        expect(got.map((f) => decodeMethod(f.payload).id)).toEqual(methods.map((m) => m.id));
        expect(got.every((f) => f.channel === 3 && f.type === FRAME_METHOD)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
