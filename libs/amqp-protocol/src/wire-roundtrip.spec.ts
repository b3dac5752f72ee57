// Decoding then re-encoding gives back the bytes that came off the wire, for every value a peer can send:
// field tables generated as bytes (every type, every bit pattern), basic properties, and the shortstrs of
// methods (kept as they are in content methods, refused with 501 when malformed in the others).

import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { readText } from './codec';
import { amqplibEncodeTable } from './testing/amqplib-oracle';
import {
  BASIC_CONSUME,
  BASIC_DELIVER,
  BASIC_GET_OK,
  BASIC_PUBLISH,
  BASIC_RETURN,
  decodeBasicProperties,
  decodeFieldTable,
  decodeMethod,
  encodeBasicProperties,
  encodeFieldTable,
  encodeMethod,
  encodeMethodFrame,
  FRAME_END,
  FRAME_METHOD,
  fieldTableSize,
  METHOD_FIELDS,
  METHOD_HAS_CONTENT,
  methodName,
  ProtocolError,
  propertiesWellFormed,
  QUEUE_DECLARE,
  tableEquals,
  type FieldTable,
  type FieldValue,
} from './index';
import { protocolError } from './testing/protocol-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const prefixed = (body: Buffer) => Buffer.concat([u32(body.length), body]);
const shortstrBytes = (text: Buffer) => Buffer.concat([Buffer.from([text.length]), text]);
const esc = (byte: number) => String.fromCharCode(0xdc00 + byte);

// ---------------------------------------------------------------------------------------------------------
// byte generators

const bytesOf = (n: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));

/** Text bytes of any kind: random (mostly invalid UTF-8), valid UTF-8, and valid text broken up by stray bytes. */
const MALFORMED = ['c0 80', 'e0 80 80', 'ed a0 80', 'f4 90 80 80', 'f0 8f bf bf', 'e2 82', 'f0 9f 98', 'ff', '80'].map(
  hex,
);
const textBytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc
    .oneof(
      fc.uint8Array({ maxLength }).map((a) => Buffer.from(a)),
      fc.string({ unit: 'binary', maxLength: Math.ceil(maxLength / 4) }).map((s) => Buffer.from(s, 'utf8')),
      fc
        .array(
          fc.oneof(
            fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }).map((s) => Buffer.from(s, 'utf8')),
            fc.constantFrom(...MALFORMED),
            fc.integer({ min: 0x80, max: 0xff }).map((b) => Buffer.from([b])),
          ),
          { maxLength: 12 },
        )
        .map((parts) => Buffer.concat(parts)),
      fc.constant(Buffer.alloc(maxLength, 0xff)),
    )
    .map((b) => b.subarray(0, maxLength));

/** Names of 0 to 255 bytes, short ones more often. */
const nameBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: textBytes(12), weight: 4 },
  { arbitrary: textBytes(255), weight: 1 },
);

const float32Edges = [
  '7fc00000',
  'ffc00000',
  '7f800001',
  'ff800001',
  '7fa00000',
  '7fbfffff',
  'ffffffff',
  '7f800000',
  'ff800000',
  '00000000',
  '80000000',
  '00000001',
  '80000001',
  '7f7fffff',
];
const float64Edges = [
  '7ff8000000000000',
  'fff8000000000000',
  '7ff0000000000001',
  'fff0000000000001',
  '7ff4000000000000',
  '7ff7ffffffffffff',
  'ffffffffffffffff',
  '7ff0000000000000',
  'fff0000000000000',
  '0000000000000000',
  '8000000000000000',
  '0000000000000001',
  '8000000000000001',
  '7fefffffffffffff',
];

/** Any NaN bit pattern: exponent all ones, a non-zero random mantissa, either sign. */
function nanBytes(size: 4 | 8): fc.Arbitrary<Buffer> {
  return bytesOf(size).map((b) => {
    const out = Buffer.from(b);
    if (size === 4) {
      out[0] |= 0x7f;
      out[1] |= 0x80;
      if (((out[1] & 0x7f) | out[2] | out[3]) === 0) out[3] = 1;
    } else {
      out[0] |= 0x7f;
      out[1] |= 0xf0;
      if (((out[1] & 0x0f) | out[2] | out[3] | out[4] | out[5] | out[6] | out[7]) === 0) out[7] = 1;
    }
    return out;
  });
}

const floatBytes = (size: 4 | 8) =>
  fc.oneof(bytesOf(size), nanBytes(size), fc.constantFrom(...(size === 4 ? float32Edges : float64Edges).map(hex)));

/** All 8-byte patterns, weighted towards the edges of the range a number holds exactly. */
const EDGES_64 = [0n, 2n ** 53n, -(2n ** 53n), 2n ** 63n, 2n ** 64n - 1n, 2n ** 32n];
const longBytes: fc.Arbitrary<Buffer> = fc.oneof(
  bytesOf(8),
  fc.tuple(fc.constantFrom(...EDGES_64), fc.integer({ min: -2, max: 2 })).map(([e, d]) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, e + BigInt(d)));
    return b;
  }),
);

const typed = (letter: string, body: fc.Arbitrary<Buffer>) =>
  body.map((b) => Buffer.concat([Buffer.from(letter, 'latin1'), b]));

/** A value's bytes (type octet + value) of each scalar type, over the type's full range ('t' only 0 or 1). */
const scalarBytes: fc.Arbitrary<Buffer> = fc.oneof(
  typed('t', fc.constantFrom(hex('00'), hex('01'))),
  typed('b', bytesOf(1)),
  typed('B', bytesOf(1)),
  typed('s', bytesOf(2)),
  typed('u', bytesOf(2)),
  typed('I', bytesOf(4)),
  typed('i', bytesOf(4)),
  typed('l', longBytes),
  typed('f', floatBytes(4)),
  typed('d', floatBytes(8)),
  typed('D', bytesOf(5)),
  typed('T', longBytes),
  typed('S', textBytes(300).map(prefixed)),
  typed(
    'x',
    fc.uint8Array({ maxLength: 40 }).map((a) => prefixed(Buffer.from(a))),
  ),
  fc.constant(Buffer.from('V')),
);

const wire = fc.letrec<{ value: Buffer; table: Buffer }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'wire' },
    scalarBytes,
    typed(
      'A',
      fc.array(tie('value'), { maxLength: 4, depthIdentifier: 'wire' }).map((items) => prefixed(Buffer.concat(items))),
    ),
    typed('F', tie('table')),
  ),
  // names are unique: a map cannot hold two entries of one name
  table: fc
    .uniqueArray(fc.tuple(nameBytes, tie('value')), {
      selector: ([name]) => name.toString('hex'),
      maxLength: 6,
      depthIdentifier: 'wire',
    })
    .map((entries) =>
      prefixed(Buffer.concat(entries.map(([name, value]) => Buffer.concat([shortstrBytes(name), value])))),
    ),
}));
/** A field table (length prefix included) as a peer could send it. */
const tableBytes = (): fc.Arbitrary<Buffer> => wire.table;

// ---------------------------------------------------------------------------------------------------------

describe('field tables from the wire', () => {
  it('decode and re-encode to the same bytes, for every type over its full range', () => {
    fc.assert(
      fc.property(tableBytes(), (bytes) => {
        const { table, end } = decodeFieldTable(bytes, 0);
        expect(end).toBe(bytes.length);
        expect(fieldTableSize(table)).toBe(bytes.length);
        const again = encodeFieldTable(table);
        expect(again.toString('hex')).toBe(bytes.toString('hex'));
        expect(tableEquals(decodeFieldTable(again, 0).table, table)).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it('decode at an offset inside a larger buffer', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 10 }),
        tableBytes(),
        fc.uint8Array({ maxLength: 10 }),
        (before, bytes, after) => {
          const buf = Buffer.concat([before, bytes, after]);
          const { table, end } = decodeFieldTable(buf, before.length);
          expect(end).toBe(before.length + bytes.length);
          expect(encodeFieldTable(table).equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads a 't' octet other than 0 and 1 as true and writes it back as 1", () => {
    for (const octet of [2, 0x80, 0xff]) {
      const bytes = hex(`00000004 01 62 74 ${octet.toString(16).padStart(2, '0')}`);
      const table = decodeFieldTable(bytes, 0).table;
      expect(table.get('b')).toEqual({ type: 't', value: true });
      expect(encodeFieldTable(table)).toEqual(hex('00000004 01 62 74 01'));
    }
    expect(decodeFieldTable(hex('00000004 01 62 74 00'), 0).table.get('b')).toEqual({ type: 't', value: false });
  });

  it('keeps the exact bits of NaNs, signalling ones included, and of -0', () => {
    const cases: [string, string][] = [
      ['f', '7f800001'], // signalling NaN, smallest payload
      ['f', 'ffa5a5a5'],
      ['f', '7fc00000'],
      ['d', '7ff0000000000001'],
      ['d', 'fff4000000000abc'],
      ['d', '7ff8000000000000'],
    ];
    for (const [type, bits] of cases) {
      const bytes = Buffer.concat([prefixed(Buffer.concat([hex('01 6e'), Buffer.from(type), hex(bits)]))]);
      const value = decodeFieldTable(bytes, 0).table.get('n') as FieldValue & { type: 'f' | 'd' };
      expect(Number.isNaN(value.value)).toBe(true);
      // the canonical NaN (what Buffer#writeFloatBE / writeDoubleBE write) needs no saved bytes
      const canonical = bits === '7fc00000' || bits === '7ff8000000000000';
      expect(value.nan?.toString('hex')).toBe(canonical ? undefined : bits);
      expect(encodeFieldTable(decodeFieldTable(bytes, 0).table).toString('hex')).toBe(bytes.toString('hex'));
    }
    const zero = decodeFieldTable(hex('00000012 01 61 66 80000000 01 62 64 8000000000000000'), 0).table;
    expect(Object.is(zero.get('a')?.value, -0)).toBe(true);
    expect(Object.is(zero.get('b')?.value, -0)).toBe(true);
    expect((zero.get('a') as { nan?: Buffer }).nan).toBeUndefined();
  });

  it('writes a NaN without saved bits as the usual NaN, and ignores saved bits once the value is no NaN', () => {
    expect(encodeFieldTable(new Map([['n', { type: 'f', value: NaN }]]))).toEqual(hex('00000007 01 6e 66 7fc00000'));
    expect(encodeFieldTable(new Map([['n', { type: 'd', value: 1, nan: hex('7ff0000000000001') }]]))).toEqual(
      hex('0000000b 01 6e 64 3ff0000000000000'),
    );
  });

  it('decodes 64-bit values beyond 2^53 to exact bigints', () => {
    const table = decodeFieldTable(
      hex('00000021 01 61 6c 8000000000000000 01 62 6c 0020000000000000 01 63 54 ffffffffffffffff'),
      0,
    ).table;
    expect(table.get('a')).toEqual({ type: 'l', value: -9223372036854775808n });
    expect(table.get('b')).toEqual({ type: 'l', value: 9007199254740992n });
    expect(table.get('c')).toEqual({ type: 'T', value: 18446744073709551615n });
    const small = decodeFieldTable(hex('00000016 01 61 6c fffffffffffffffe 01 62 54 001fffffffffffff'), 0).table;
    expect(small.get('a')).toEqual({ type: 'l', value: -2 });
    expect(small.get('b')).toEqual({ type: 'T', value: Number.MAX_SAFE_INTEGER });
  });

  it("decodes amqplib's int64 encoding of integers past 2^53 exactly", () => {
    const values = { a: 2 ** 53, b: -(2 ** 60), c: 2 ** 62 + 2 ** 40, d: 2 ** 53 - 1 };
    const bytes = amqplibEncodeTable(values);
    const table = decodeFieldTable(bytes, 0).table;
    expect(table.get('a')).toEqual({ type: 'l', value: 2n ** 53n });
    expect(table.get('b')).toEqual({ type: 'l', value: -(2n ** 60n) });
    expect(table.get('c')).toEqual({ type: 'l', value: 2n ** 62n + 2n ** 40n });
    expect(table.get('d')).toEqual({ type: 'l', value: 2 ** 53 - 1 });
    expect(encodeFieldTable(table).equals(bytes)).toBe(true);
  });

  it('keeps names and strings of invalid UTF-8 as their bytes', () => {
    const bytes = hex('0000000f 02 ff fe 53 00000004 e0 80 80 61 01 80 56');
    const table = decodeFieldTable(bytes, 0).table;
    expect([...table.keys()]).toEqual([esc(0xff) + esc(0xfe), esc(0x80)]);
    expect(table.get(esc(0xff) + esc(0xfe))).toEqual({ type: 'S', value: esc(0xe0) + esc(0x80) + esc(0x80) + 'a' });
    expect(encodeFieldTable(table)).toEqual(bytes);
  });
});

// ---------------------------------------------------------------------------------------------------------

/** basic's properties in flag order (bit 15 first), as generators of their bytes. */
const PROPERTY_BYTES: [bit: number, bytes: fc.Arbitrary<Buffer>][] = [
  [15, textBytes(255).map(shortstrBytes)], // content-type
  [14, textBytes(255).map(shortstrBytes)], // content-encoding
  [13, tableBytes()], // headers
  [12, bytesOf(1)], // delivery-mode
  [11, bytesOf(1)], // priority
  [10, textBytes(255).map(shortstrBytes)], // correlation-id
  [9, textBytes(255).map(shortstrBytes)], // reply-to
  [8, textBytes(255).map(shortstrBytes)], // expiration
  [7, textBytes(255).map(shortstrBytes)], // message-id
  [6, fc.oneof(longBytes, fc.constant(hex('ffffffffffffffff')))], // timestamp
  [5, textBytes(255).map(shortstrBytes)], // type
  [4, textBytes(255).map(shortstrBytes)], // user-id
  [3, textBytes(255).map(shortstrBytes)], // app-id
  [2, textBytes(255).map(shortstrBytes)], // cluster-id
];

/** Property flags + property list for any subset of the 14 properties. */
const propertiesBytes: fc.Arbitrary<Buffer> = fc
  .tuple(...PROPERTY_BYTES.map(([, arb]) => fc.option(arb, { freq: 2 })))
  .map((values) => {
    let flags = 0;
    const parts: Buffer[] = [];
    values.forEach((v, i) => {
      if (v === null) return;
      flags |= 1 << PROPERTY_BYTES[i][0];
      parts.push(v);
    });
    const head = Buffer.alloc(2);
    head.writeUInt16BE(flags);
    return Buffer.concat([head, ...parts]);
  });

describe('basic properties from the wire', () => {
  it('decode and re-encode to the same bytes, for any flags and any bytes', () => {
    fc.assert(
      fc.property(propertiesBytes, (raw) => {
        const props = decodeBasicProperties(raw);
        expect(encodeBasicProperties(props).toString('hex')).toBe(raw.toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('propertiesWellFormed accepts every list that decodes, and none a byte longer or shorter', () => {
    fc.assert(
      fc.property(propertiesBytes, fc.uint8Array({ minLength: 1, maxLength: 3 }), fc.nat(), (raw, extra, cut) => {
        expect(propertiesWellFormed(raw)).toBe(true);
        const longer = Buffer.concat([raw, extra]);
        expect(propertiesWellFormed(longer)).toBe(false);
        expect(protocolError(() => decodeBasicProperties(longer)).code).toBe(502);
        const shorter = raw.subarray(0, cut % raw.length);
        expect(propertiesWellFormed(shorter)).toBe(false);
        expect(protocolError(() => decodeBasicProperties(shorter)).code).toBe(502);
      }),
      { numRuns: 200 },
    );
    // on random bytes: whatever decodes is well-formed
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 40 }), (bytes) => {
        const raw = Buffer.from(bytes);
        let decoded = true;
        try {
          decodeBasicProperties(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
          decoded = false;
        }
        if (decoded) expect(propertiesWellFormed(raw)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a timestamp of 2^64 - 1 after the headers are edited (a BCC header removed)', () => {
    const headers = prefixed(
      Buffer.concat([
        shortstrBytes(Buffer.from('BCC')),
        Buffer.from('A'),
        prefixed(Buffer.concat([Buffer.from('S'), prefixed(Buffer.from('hidden@example.com'))])),
        shortstrBytes(Buffer.from('CC')),
        Buffer.from('S'),
        prefixed(Buffer.from('seen@example.com')),
      ]),
    );
    const raw = Buffer.concat([hex('2040'), headers, hex('ffffffffffffffff')]); // headers + timestamp
    const props = decodeBasicProperties(raw);
    expect(props.timestamp).toBe(18446744073709551615n);
    expect(encodeBasicProperties(props).equals(raw)).toBe(true);

    props.headers?.delete('BCC');
    let out: Buffer | undefined;
    expect(() => (out = encodeBasicProperties(props))).not.toThrow();
    if (out === undefined) throw new Error('not encoded');
    const back = decodeBasicProperties(out);
    expect(back.timestamp).toBe(18446744073709551615n);
    expect([...(back.headers as FieldTable).keys()]).toEqual(['CC']);
    expect(out.subarray(out.length - 8)).toEqual(hex('ffffffffffffffff'));
  });

  it('encodes a bigint timestamp over the full range', () => {
    expect(encodeBasicProperties({ timestamp: 2n ** 64n - 1n })).toEqual(hex('0040 ffffffffffffffff'));
    expect(encodeBasicProperties({ timestamp: 2n ** 53n })).toEqual(hex('0040 0020000000000000'));
    expect(decodeBasicProperties(hex('0040 0020000000000000')).timestamp).toBe(2n ** 53n);
    expect(decodeBasicProperties(hex('0040 001fffffffffffff')).timestamp).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('keeps shortstr properties of invalid UTF-8, 255 bytes long', () => {
    const raw = Buffer.concat([hex('8000 ff'), Buffer.alloc(255, 0xff)]);
    const props = decodeBasicProperties(raw);
    expect(props.contentType).toBe(esc(0xff).repeat(255));
    expect(encodeBasicProperties(props).equals(raw)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------

const idBytes = (id: number) => u32(id);
const MALFORMED_255 = Buffer.alloc(255, 0xff);

describe('method shortstrs', () => {
  it('queue.declare with a queue name of 255 bytes of 0xff is a 501', () => {
    const payload = Buffer.concat([
      idBytes(QUEUE_DECLARE),
      hex('0000'),
      shortstrBytes(MALFORMED_255),
      hex('00 00000000'),
    ]);
    const err = protocolError(() => decodeMethod(payload));
    expect(err.code).toBe(501);
    expect(err.message).toBe('Malformed UTF-8 in shortstr');
  });

  it('basic.consume with a consumer tag of invalid UTF-8 is a 501', () => {
    for (const tag of ['e0 80 80', 'c3', 'ed a0 80', 'f4 90 80 80', '61 ff']) {
      const payload = Buffer.concat([
        idBytes(BASIC_CONSUME),
        hex('0000 01 71'),
        shortstrBytes(hex(tag)),
        hex('00 00000000'),
      ]);
      const err = protocolError(() => decodeMethod(payload));
      expect([err.code, err.message]).toEqual([501, 'Malformed UTF-8 in shortstr']);
    }
    // the same consumer tag in valid UTF-8 is fine
    const ok = Buffer.concat([
      idBytes(BASIC_CONSUME),
      hex('0000 01 71'),
      shortstrBytes(Buffer.from('tag-é')),
      hex('00 00000000'),
    ]);
    expect(decodeMethod(ok).args).toMatchObject({ queue: 'q', consumerTag: 'tag-é' });
  });

  it('basic.publish keeps a 255-byte routing key of invalid UTF-8 and encodes it back to the same bytes', () => {
    const routingKey = Buffer.concat([hex('e0 80 80 ed a0 80 c3'), Buffer.alloc(248, 0xfe)]);
    expect(routingKey.length).toBe(255);
    const payload = Buffer.concat([
      idBytes(BASIC_PUBLISH),
      hex('0000'),
      shortstrBytes(hex('ff 80')),
      shortstrBytes(routingKey),
      hex('01'),
    ]);
    const m = decodeMethod(payload);
    expect(m.id).toBe(BASIC_PUBLISH);
    const args = m.args as { exchange: string; routingKey: string; mandatory: boolean };
    expect(args.exchange).toBe(esc(0xff) + esc(0x80));
    expect(args.routingKey).toBe(readText(routingKey, 0, 255));
    expect(args.mandatory).toBe(true);
    expect(encodeMethod(BASIC_PUBLISH, m.args).toString('hex')).toBe(payload.toString('hex'));
    const frame = encodeMethodFrame(3, BASIC_PUBLISH, m.args);
    expect(frame[0]).toBe(FRAME_METHOD);
    expect(frame.readUInt16BE(1)).toBe(3);
    expect(frame.readUInt32BE(3)).toBe(payload.length);
    expect(frame.subarray(7, frame.length - 1).equals(payload)).toBe(true);
    expect(frame[frame.length - 1]).toBe(FRAME_END);
  });

  it('content methods keep malformed shortstrs as they are', () => {
    for (const id of [BASIC_PUBLISH, BASIC_DELIVER, BASIC_RETURN, BASIC_GET_OK]) {
      expect(METHOD_HAS_CONTENT(id)).toBe(true);
      const args: Record<string, unknown> = {};
      for (const [name, kind] of METHOD_FIELDS[id]) if (kind === 'shortstr') args[name] = esc(0xff).repeat(255);
      const payload = encodeMethod(id, args);
      const back = decodeMethod(payload);
      expect(back.args).toMatchObject(args);
      expect(encodeMethod(id, back.args).equals(payload)).toBe(true);
    }
  });

  // Every method, with random bytes in its text fields: content methods and valid UTF-8 decode and re-encode
  // to the same bytes; a malformed shortstr elsewhere is a 501 (not a 502 "malformed <method>").
  const ids = Object.keys(METHOD_FIELDS).map(Number);
  const withText = ids.filter((id) =>
    METHOD_FIELDS[id].some(([, kind]) => kind === 'shortstr' || kind === 'longstr' || kind === 'table'),
  );

  it('decode and re-encode text and table arguments of every method, or refuse malformed shortstrs with 501', () => {
    const methodBytes = fc
      .constantFrom(...withText)
      .chain((id) =>
        fc
          .tuple(
            ...METHOD_FIELDS[id].map(([, kind]) =>
              kind === 'shortstr'
                ? textBytes(255)
                : kind === 'longstr'
                  ? textBytes(300)
                  : kind === 'table'
                    ? tableBytes()
                    : fc.constant(null),
            ),
          )
          .map((values) => ({ id, values })),
      );
    fc.assert(
      fc.property(methodBytes, ({ id, values }) => {
        const args: Record<string, unknown> = {};
        let malformed = false;
        METHOD_FIELDS[id].forEach(([name, kind], i) => {
          const v = values[i];
          if (v === null) return;
          if (kind === 'table') args[name] = decodeFieldTable(v, 0).table;
          else args[name] = readText(v, 0, v.length);
          if (kind === 'shortstr' && !isUtf8(v)) malformed = true;
        });
        const payload = encodeMethod(id, args);
        if (malformed && !METHOD_HAS_CONTENT(id)) {
          const err = protocolError(() => decodeMethod(payload));
          expect([err.code, err.message]).toEqual([501, 'Malformed UTF-8 in shortstr']);
          return;
        }
        const back = decodeMethod(payload);
        expect(back.id).toBe(id);
        for (const [name, kind] of METHOD_FIELDS[id]) {
          const got = (back.args as Record<string, unknown>)[name];
          if (kind === 'shortstr' || kind === 'longstr') expect(got).toBe(args[name]);
          if (kind === 'table') expect(tableEquals(got as FieldTable, args[name] as FieldTable)).toBe(true);
        }
        expect(encodeMethod(id, back.args).toString('hex')).toBe(payload.toString('hex'));
      }),
      { numRuns: 400 },
    );
    expect(withText.map(methodName)).toEqual(
      expect.arrayContaining(['queue.declare', 'basic.publish', 'basic.deliver']),
    );
  });
});
