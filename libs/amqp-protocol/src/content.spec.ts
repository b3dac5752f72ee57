import fc from 'fast-check';
import {
  decodeBasicProperties,
  decodeContentHeader,
  encodeBasicProperties,
  FLAG_CONTENT_TYPE,
  FLAG_DELIVERY_MODE,
  propertiesWellFormed,
  ProtocolError,
  tableFromPlain,
  tableToPlain,
  type BasicProperties,
} from './index';
import { amqplibDefs, amqplibFriendly } from './testing/amqplib-oracle';
import { basicProperties } from './testing/arbitraries';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}

describe('content header', () => {
  it('splits a header payload, keeping the properties as received', () => {
    const payload = hex('003c 0000 0000000100000005 8000 0a 746578742f706c61696e');
    const header = decodeContentHeader(payload);
    expect(header).toEqual({
      classId: 60,
      weight: 0,
      bodySize: 2 ** 32 + 5,
      properties: hex('8000 0a 746578742f706c61696e'),
    });
    expect(header.properties.buffer).toBe(payload.buffer);
    expect(header.properties.byteOffset).toBe(payload.byteOffset + 12);
  });

  it('rejects a payload shorter than 14 bytes with 502', () => {
    expect(code(() => decodeContentHeader(hex('003c 0000 0000000000000005 80')))).toBe(502);
    expect(code(() => decodeContentHeader(Buffer.alloc(0)))).toBe(502);
    expect(decodeContentHeader(hex('003c 0000 0000000000000000 0000')).bodySize).toBe(0);
  });
});

describe('basic properties: known encodings', () => {
  it('flags 0x8000 for content-type alone', () => {
    expect(encodeBasicProperties({ contentType: 'text/plain' })).toEqual(hex('8000 0a 746578742f706c61696e'));
    expect(FLAG_CONTENT_TYPE).toBe(0x8000);
  });

  it('writes several properties in flag order', () => {
    const props: BasicProperties = {
      timestamp: 1700000000,
      messageId: 'm1',
      priority: 5,
      deliveryMode: 2,
      headers: tableFromPlain({ a: 'b' }),
      contentType: 'application/json',
    };
    // content-type 0x8000 | headers 0x2000 | delivery-mode 0x1000 | priority 0x0800 | message-id 0x0080 | timestamp 0x0040
    const bytes = hex(`
      b8c0
      10 6170706c69636174696f6e2f6a736f6e
      00000008 01 61 53 00000001 62
      02
      05
      02 6d31
      000000006553f100
    `);
    expect(encodeBasicProperties(props)).toEqual(bytes);
    expect(decodeBasicProperties(bytes)).toEqual(props);
    // amqplib's encoder agrees (its frame: 7-byte frame header, class, weight, body size, then the same bytes)
    const frame = amqplibDefs.encodeProperties(60, 1, 0, { ...props, headers: { a: 'b' } });
    expect(frame.subarray(19, frame.length - 1)).toEqual(bytes);
  });

  it('writes present empty strings and zeros, omits undefined', () => {
    expect(encodeBasicProperties({ contentType: '' })).toEqual(hex('8000 00'));
    expect(encodeBasicProperties({ deliveryMode: 0, appId: undefined })).toEqual(hex('1000 00'));
    expect(encodeBasicProperties({ clusterId: 'c' })).toEqual(hex('0004 01 63'));
    expect(encodeBasicProperties({})).toEqual(hex('0000'));
    expect(decodeBasicProperties(hex('0000'))).toEqual({});
    expect(decodeBasicProperties(hex('1000 00'))).toEqual({ deliveryMode: 0 });
    expect(FLAG_DELIVERY_MODE).toBe(0x1000);
  });

  it('ignores the continuation flag bit, as RabbitMQ does: the list follows the first word', () => {
    expect(decodeBasicProperties(hex('8001 01 61'))).toEqual({ contentType: 'a' });
    // a second flags word is bytes the list does not account for
    expect(code(() => decodeBasicProperties(hex('8001 0000 01 61')))).toBe(502);
    expect(code(() => decodeBasicProperties(hex('8001')))).toBe(502);
  });

  it('refuses a list longer or shorter than its flags say, and propertiesWellFormed agrees without decoding', () => {
    for (const [raw, ok] of [
      ['8000 01 61', true],
      ['8000 01 61 00', false],
      ['8000 05 61', false],
      ['2000 00000005 00', false],
      ['2000 00000000', true],
      ['0040 ffffffffffffffff', true],
      ['0040 ffffffff', false],
      ['1800 02 09', true],
      ['0000', true],
      ['00', false],
    ] as const) {
      expect(propertiesWellFormed(hex(raw))).toBe(ok);
      if (ok) expect(() => decodeBasicProperties(hex(raw))).not.toThrow();
      else expect(code(() => decodeBasicProperties(hex(raw)))).toBe(502);
    }
  });
});

describe('basic properties: round trips', () => {
  it('decode(encode(p)) is p', () => {
    fc.assert(
      fc.property(basicProperties(), (props) => {
        const raw = encodeBasicProperties(props);
        expect(decodeBasicProperties(raw)).toEqual(props);
        expect(encodeBasicProperties(decodeBasicProperties(raw)).equals(raw)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("amqplib reads ours and we read amqplib's", () => {
    // amqplib's view of the headers table is plain: compare through it, with a table it can represent
    fc.assert(
      fc.property(basicProperties(), (random) => {
        const props = { ...random, headers: random.headers && amqplibFriendly(random.headers) };
        const plainHeaders = props.headers && tableToPlain(props.headers);
        const theirs = amqplibDefs.decode(60, encodeBasicProperties(props));
        expect(theirs).toEqual({ ...props, headers: plainHeaders });

        const frame = amqplibDefs.encodeProperties(60, 3, 42, { ...props, headers: plainHeaders });
        const header = decodeContentHeader(frame.subarray(7, frame.length - 1));
        expect(header.bodySize).toBe(42);
        const ours = decodeBasicProperties(header.properties);
        expect({ ...ours, headers: ours.headers && tableToPlain(ours.headers) }).toEqual({
          ...props,
          headers: plainHeaders,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every truncation with 502', () => {
    fc.assert(
      fc.property(basicProperties(), fc.nat(), (props, cut) => {
        const raw = encodeBasicProperties(props);
        expect(code(() => decodeBasicProperties(raw.subarray(0, cut % raw.length)))).toBe(502);
      }),
      { numRuns: 300 },
    );
  });
});
