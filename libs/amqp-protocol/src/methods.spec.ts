import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  BASIC_ACK,
  BASIC_DELIVER,
  BASIC_GET_OK,
  BASIC_NACK,
  BASIC_PUBLISH,
  BASIC_RETURN,
  CHANNEL_OPEN,
  ClassId,
  CONFIRM_SELECT,
  CONNECTION_BLOCKED,
  CONNECTION_START,
  CONNECTION_TUNE,
  CONNECTION_UPDATE_SECRET,
  decodeMethod,
  encodeMethod,
  encodeMethodFrame,
  EXCHANGE_BIND,
  EXCHANGE_UNBIND_OK,
  METHOD_FIELDS,
  METHOD_HAS_CONTENT,
  methodMaxSize,
  methodName,
  ProtocolError,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  ReplyCode,
  tableFromPlain,
  tableToPlain,
  TX_COMMIT_OK,
  type FieldTable,
  type FieldValue,
  type Method,
} from './index';
import { amqplibCanDecode, amqplibDefs, amqplibFieldNames } from './testing/amqplib-oracle';
import { anyMethod } from './testing/arbitraries';
import { protocolError } from './testing/protocol-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ALL_IDS = Object.keys(METHOD_FIELDS).map(Number);

describe('method ids and names', () => {
  it('combines class and method ids', () => {
    expect(BASIC_PUBLISH).toBe((60 << 16) | 40);
    expect(CONNECTION_START).toBe((10 << 16) | 10);
    expect(EXCHANGE_UNBIND_OK).toBe((40 << 16) | 51);
    expect(CONFIRM_SELECT).toBe((85 << 16) | 10);
    expect(TX_COMMIT_OK).toBe((90 << 16) | 21);
    expect(CONNECTION_BLOCKED).toBe((10 << 16) | 60);
    expect(CONNECTION_UPDATE_SECRET).toBe((10 << 16) | 70);
    expect(ClassId).toEqual({ connection: 10, channel: 20, exchange: 40, queue: 50, basic: 60, confirm: 85, tx: 90 });
  });

  it('defines the same methods and fields as amqplib (minus its access class)', () => {
    const theirs = Object.entries(amqplibDefs)
      .filter(([name, id]) => typeof id === 'number' && /^[A-Z][a-z]+[A-Z]/.test(name) && !name.startsWith('Access'))
      .map(([, id]) => id as number)
      .filter((id) => id > 0xffff);
    expect([...ALL_IDS].sort()).toEqual([...theirs].sort());
    for (const id of ALL_IDS) {
      const types = amqplibDefs.info(id).args.map((a) => a.type);
      expect(METHOD_FIELDS[id].map(([, kind]) => (kind === 'bytes' ? 'longstr' : kind))).toEqual(types);
    }
  });

  it('has the reply codes of the spec and RabbitMQ', () => {
    const theirs = (amqplibDefs as unknown as { constants: Record<string, number> }).constants;
    for (const [name, code] of Object.entries(ReplyCode)) expect(theirs[name]).toBe(code);
    expect(ReplyCode.NO_ROUTE).toBe(312);
    expect(Object.keys(ReplyCode)).toHaveLength(19);
  });

  it('names methods', () => {
    expect(methodName(BASIC_PUBLISH)).toBe('basic.publish');
    expect(methodName(QUEUE_DECLARE_OK)).toBe('queue.declare-ok');
    expect(methodName((60 << 16) | 99)).toBe('unknown(60,99)');
    expect(methodName((7 << 16) | 1)).toBe('unknown(7,1)');
  });

  it('knows which methods carry content', () => {
    expect(ALL_IDS.filter(METHOD_HAS_CONTENT).sort()).toEqual(
      [BASIC_PUBLISH, BASIC_RETURN, BASIC_DELIVER, BASIC_GET_OK].sort(),
    );
  });
});

describe('known encodings', () => {
  it('channel.open', () => {
    expect(encodeMethodFrame(1, CHANNEL_OPEN, {}).toString('hex')).toBe(
      '01 0001 00000005 0014 000a 00 ce'.replace(/ /g, ''),
    );
  });

  it('basic.publish with the mandatory bit', () => {
    const frame = encodeMethodFrame(1, BASIC_PUBLISH, { exchange: 'ex', routingKey: 'rk', mandatory: true });
    expect(frame).toEqual(hex('01 0001 0000000d 003c 0028 0000 02 6578 02 726b 01 ce'));
    expect(frame).toEqual(
      amqplibDefs.encodeMethod(BASIC_PUBLISH, 1, { exchange: 'ex', routingKey: 'rk', mandatory: true }),
    );
    const both = encodeMethod(BASIC_PUBLISH, { exchange: 'ex', routingKey: 'rk', mandatory: true, immediate: true });
    expect(both[both.length - 1]).toBe(0x03);
  });

  it('queue.declare packs its five bits into one octet', () => {
    const args = { queue: 'q', durable: true, autoDelete: true, arguments: new Map() };
    // bits, lowest first: passive, durable, exclusive, auto-delete, no-wait -> 0b01010
    expect(encodeMethod(QUEUE_DECLARE, args)).toEqual(hex('0032 000a 0000 01 71 0a 00000000'));
    expect(encodeMethod(QUEUE_DECLARE, { queue: 'q', passive: true, exclusive: true, noWait: true })).toEqual(
      hex('0032 000a 0000 01 71 15 00000000'),
    );
  });

  it('basic.nack packs multiple and requeue; basic.ack carries a 64-bit tag', () => {
    expect(encodeMethod(BASIC_NACK, { deliveryTag: 2 ** 32 + 5, requeue: true })).toEqual(
      hex('003c 0078 00000001 00000005 02'),
    );
    expect(encodeMethod(BASIC_ACK, { deliveryTag: 7, multiple: true })).toEqual(hex('003c 0050 0000000000000007 01'));
  });

  it('connection.tune', () => {
    expect(encodeMethod(CONNECTION_TUNE, { channelMax: 2047, frameMax: 131072, heartbeat: 60 })).toEqual(
      hex('000a 001e 07ff 00020000 003c'),
    );
  });

  it('decodes basic.deliver', () => {
    const m = decodeMethod(hex('003c 003c 03 637467 0000000000000009 01 01 78 02 726b'));
    expect(m).toEqual({
      id: BASIC_DELIVER,
      name: 'basic.deliver',
      args: { consumerTag: 'ctg', deliveryTag: 9, redelivered: true, exchange: 'x', routingKey: 'rk' },
    });
  });

  it('writes missing arguments as zero, false, empty string and empty table', () => {
    expect(encodeMethod(EXCHANGE_BIND, {})).toEqual(hex('0028 001e 0000 00 00 00 00 00000000'));
    expect(decodeMethod(encodeMethod(CONNECTION_START, {})).args).toEqual({
      versionMajor: 0,
      versionMinor: 0,
      serverProperties: new Map(),
      mechanisms: Buffer.alloc(0),
      locales: Buffer.alloc(0),
    });
  });

  it('decodes binary longstr fields to Buffers and the rest to strings', () => {
    const m = decodeMethod(
      encodeMethod(CONNECTION_START, {
        versionMajor: 0,
        versionMinor: 9,
        serverProperties: tableFromPlain({ product: 'warren' }),
        mechanisms: Buffer.from('PLAIN AMQPLAIN'),
        locales: Buffer.from('en_US'),
      }),
    );
    if (m.id !== CONNECTION_START) throw new Error('wrong method');
    expect(Buffer.isBuffer(m.args.mechanisms)).toBe(true);
    expect(m.args.mechanisms.toString()).toBe('PLAIN AMQPLAIN');
    expect(tableToPlain(m.args.serverProperties)).toEqual({ product: 'warren' });
  });

  it('narrows args by id', () => {
    const describe = (m: Method): string => {
      switch (m.id) {
        case BASIC_PUBLISH:
          return `${m.args.exchange}/${m.args.routingKey}${m.args.mandatory ? '!' : ''}`;
        case BASIC_ACK:
          return `ack ${m.args.deliveryTag}`;
        default:
          return m.name;
      }
    };
    expect(
      describe(decodeMethod(encodeMethod(BASIC_PUBLISH, { exchange: 'a', routingKey: 'b', mandatory: true }))),
    ).toBe('a/b!');
    expect(describe(decodeMethod(encodeMethod(BASIC_ACK, { deliveryTag: 3 })))).toBe('ack 3');
    expect(describe(decodeMethod(encodeMethod(TX_COMMIT_OK, {})))).toBe('tx.commit-ok');
  });
});

describe('round trips', () => {
  it('decode(encode(args)) gives the args back, for random args of every method', () => {
    fc.assert(
      fc.property(anyMethod(), ({ id, args }) => {
        const payload = encodeMethod(id, args);
        expect(payload.length).toBeLessThanOrEqual(methodMaxSize(id, args));
        const m = decodeMethod(payload);
        expect(m.id).toBe(id);
        expect(m.name).toBe(methodName(id));
        expect(m.args).toEqual(args);
        expect(encodeMethod(id, m.args).equals(payload)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('amqplib decodes what we encode', () => {
    fc.assert(
      fc.property(anyMethod(), ({ id, args }) => {
        fc.pre(Object.values(args).every(amqplibCanDecode));
        const names = amqplibFieldNames(id);
        const decoded = amqplibDefs.decode(id, encodeMethod(id, args).subarray(4));
        METHOD_FIELDS[id].forEach(([name, kind], i) => {
          const expected = args[name];
          if (kind === 'longstr') expect(decoded[names[i]]).toEqual(Buffer.from(expected as string));
          else if (kind === 'table') expect(decoded[names[i]]).toEqual(amqplibView(expected as FieldTable));
          else expect(decoded[names[i]]).toEqual(expected);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('we decode what amqplib encodes', () => {
    fc.assert(
      fc.property(anyMethod(), fc.integer({ min: 0, max: 0xffff }), ({ id, args }, channel) => {
        fc.pre(Object.values(args).every(amqplibCanDecode));
        const names = amqplibFieldNames(id);
        const theirs: Record<string, unknown> = {};
        const expected: Record<string, unknown> = {};
        METHOD_FIELDS[id].forEach(([name, kind], i) => {
          const value = args[name];
          if (kind === 'longstr') {
            theirs[names[i]] = Buffer.from(value as string);
            expected[name] = value;
          } else if (kind === 'table') {
            const plain = amqplibSafe(tableToPlain(value as FieldTable)) as Record<string, unknown>;
            theirs[names[i]] = plain;
            expected[name] = plain;
          } else {
            theirs[names[i]] = value;
            expected[name] = value;
          }
        });
        const frame = amqplibDefs.encodeMethod(id, channel, theirs);
        expect(frame.readUInt16BE(1)).toBe(channel);
        const m = decodeMethod(frame.subarray(7, frame.length - 1));
        expect(m.id).toBe(id);
        const got: Record<string, unknown> = { ...m.args };
        for (const [name, kind] of METHOD_FIELDS[id])
          if (kind === 'table') got[name] = tableToPlain(got[name] as FieldTable);
        expect(got).toEqual(expected);
        // and our frame for the same method is byte-identical where amqplib chose the same table types
        if (!METHOD_FIELDS[id].some(([, kind]) => kind === 'table'))
          expect(encodeMethodFrame(channel, id, args)).toEqual(frame);
      }),
      { numRuns: 1000 },
    );
  });
});

/** How amqplib decodes a typed table: plain values, with 'D' and 'T' wrapped and decimal digits unsigned. */
function amqplibView(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of table) Object.defineProperty(out, name, { value: amqplibValue(value), enumerable: true });
  return out;
}
function amqplibValue(v: FieldValue): unknown {
  switch (v.type) {
    case 'D':
      return { '!': 'decimal', value: { places: v.value.places, digits: v.value.digits >>> 0 } };
    case 'T':
      return { '!': 'timestamp', value: v.value };
    case 'A':
      return v.value.map(amqplibValue);
    case 'F':
      return amqplibView(v.value);
    default:
      return v.value;
  }
}

/**
 * amqplib guesses number types and cannot encode NaN, infinities or magnitudes past 2^63; -0 comes back as 0.
 * An integer past 2^53 it writes as int64, which we decode exactly, to a bigint (wire-roundtrip.spec.ts covers
 * that): here only numbers both sides hold as numbers.
 */
function amqplibSafe(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) < 2 ** 53 && !Object.is(v, -0) ? v : 0;
  if (Array.isArray(v)) return v.map(amqplibSafe);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: amqplibSafe(x), enumerable: true });
    return out;
  }
  return v;
}

describe('decoding errors', () => {
  it('rejects every truncation of every method with 502', () => {
    fc.assert(
      fc.property(anyMethod(), fc.nat(), ({ id, args }, cut) => {
        const payload = encodeMethod(id, args);
        fc.pre(payload.length > 0);
        const err = protocolError(() => decodeMethod(payload.subarray(0, cut % payload.length)));
        expect(err.code).toBe(ReplyCode.SYNTAX_ERROR);
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects trailing bytes with 502', () => {
    const err = protocolError(() =>
      decodeMethod(Buffer.concat([encodeMethod(BASIC_ACK, { deliveryTag: 1 }), hex('00')])),
    );
    expect(err.code).toBe(502);
    expect(err.message).toMatch(/basic\.ack/);
    const publish = Buffer.concat([encodeMethod(BASIC_PUBLISH, { exchange: 'x' }), hex('0000')]);
    expect(protocolError(() => decodeMethod(publish)).code).toBe(502);
  });

  it('reports truncation with the method name', () => {
    const err = protocolError(() => decodeMethod(hex('003c 0028 0000 05 6162')));
    expect(err.code).toBe(502);
    expect(err.message).toMatch(/basic\.publish.*truncated/);
    expect(err.name).toBe('ProtocolError');
  });

  it('rejects unknown classes and methods with 503', () => {
    const unknownMethod = protocolError(() => decodeMethod(hex('003c 0063')));
    expect(unknownMethod.code).toBe(ReplyCode.COMMAND_INVALID);
    expect(unknownMethod.message).toMatch(/unknown\(60,99\)/);
    expect(protocolError(() => decodeMethod(hex('0007 000a 00'))).code).toBe(503);
  });

  it('rejects a malformed table argument with 502', () => {
    const bad = hex('0032 000a 0000 01 71 00 00000003 01 61 51');
    expect(protocolError(() => decodeMethod(bad)).code).toBe(502);
  });

  it('never throws anything but ProtocolError on random payloads of known methods', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL_IDS), fc.uint8Array({ maxLength: 40 }), (id, bytes) => {
        const payload = Buffer.concat([
          Buffer.from([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]),
          bytes,
        ]);
        try {
          decodeMethod(payload);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encoding errors', () => {
  const rangeError = expect.objectContaining({ name: 'RangeError' });

  it('refuses shortstrs over 255 bytes and out-of-range numbers', () => {
    expect(() => encodeMethod(BASIC_PUBLISH, { routingKey: 'x'.repeat(256) })).toThrow(rangeError);
    expect(() => encodeMethod(BASIC_PUBLISH, { routingKey: 'é'.repeat(128) })).toThrow(rangeError);
    expect(encodeMethod(BASIC_PUBLISH, { routingKey: 'x'.repeat(255) })).toHaveLength(4 + 2 + 1 + 256 + 1);
    expect(() => encodeMethod(CONNECTION_TUNE, { channelMax: 65536 })).toThrow(rangeError);
    expect(() => encodeMethod(BASIC_ACK, { deliveryTag: -1 })).toThrow(rangeError);
    expect(() => encodeMethod(BASIC_ACK, { deliveryTag: 1.5 })).toThrow(rangeError);
  });

  it('refuses unknown methods', () => {
    expect(() => encodeMethod((60 << 16) | 99, {})).toThrow(rangeError);
  });
});

describe('generated code', () => {
  const xml = '/usr/share/amqp/specs/0-9-1-rabbit/amqp0-9-1.stripped.extended.xml';
  (existsSync(xml) ? it : it.skip)('is what the generator writes from the spec', () => {
    const script = path.join(__dirname, '..', 'scripts', 'generate.mjs');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
