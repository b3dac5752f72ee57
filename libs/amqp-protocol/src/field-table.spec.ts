import fc from 'fast-check';
import { ProtocolError } from './errors';
import {
  decodeFieldTable,
  encodeFieldTable,
  fieldEquals,
  fieldTableSize,
  fromPlain,
  tableEquals,
  tableFromPlain,
  tableToPlain,
  toPlain,
  type FieldTable,
  type FieldValue,
} from './field-table';
import { fieldTable, fieldValue } from './testing/arbitraries';
import { amqplibCanDecode, amqplibCodec, amqplibEncodeTable } from './testing/amqplib-oracle';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const decode = (buf: Buffer) => decodeFieldTable(buf, 0).table;

/** Node's own RangeErrors come from another realm than jest's globals, so match by name. */
function expectRangeError(fn: () => unknown): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'RangeError' }));
}

function expectProtocolError(fn: () => unknown, code: number, message?: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).code).toBe(code);
  if (message) expect((error as ProtocolError).message).toMatch(message);
}

// One entry of every type; names are the type letters. Bytes worked out by hand from the encoding rules.
const EVERY_TYPE: FieldTable = new Map<string, FieldValue>([
  ['t', { type: 't', value: true }],
  ['b', { type: 'b', value: -1 }],
  ['B', { type: 'B', value: 255 }],
  ['s', { type: 's', value: -32768 }],
  ['u', { type: 'u', value: 65535 }],
  ['I', { type: 'I', value: -123 }],
  ['i', { type: 'i', value: 0xffffffff }],
  ['l', { type: 'l', value: -1 }],
  ['f', { type: 'f', value: 1.5 }],
  ['d', { type: 'd', value: Math.PI }],
  ['D', { type: 'D', value: { places: 2, digits: 1234 } }],
  ['T', { type: 'T', value: 0x65000000 }],
  ['S', { type: 'S', value: 'hi' }],
  ['x', { type: 'x', value: Buffer.from([1, 2]) }],
  [
    'A',
    {
      type: 'A',
      value: [
        { type: 'I', value: 1 },
        { type: 'V', value: null },
      ],
    },
  ],
  ['F', { type: 'F', value: new Map([['k', { type: 't', value: true }]]) }],
  ['V', { type: 'V', value: null }],
]);
const EVERY_TYPE_BYTES = hex(`
  00000081
  01 74 74 01
  01 62 62 ff
  01 42 42 ff
  01 73 73 8000
  01 75 75 ffff
  01 49 49 ffffff85
  01 69 69 ffffffff
  01 6c 6c ffffffffffffffff
  01 66 66 3fc00000
  01 64 64 400921fb54442d18
  01 44 44 02 000004d2
  01 54 54 0000000065000000
  01 53 53 00000002 6869
  01 78 78 00000002 0102
  01 41 41 00000006 49 00000001 56
  01 46 46 00000004 01 6b 74 01
  01 56 56
`);

describe('field table encoding', () => {
  it('encodes every type as worked out by hand', () => {
    expect(encodeFieldTable(EVERY_TYPE).toString('hex')).toBe(EVERY_TYPE_BYTES.toString('hex'));
    expect(fieldTableSize(EVERY_TYPE)).toBe(EVERY_TYPE_BYTES.length);
  });

  it('decodes every type, keeping the wire types', () => {
    const { table, end } = decodeFieldTable(EVERY_TYPE_BYTES, 0);
    expect(end).toBe(EVERY_TYPE_BYTES.length);
    expect([...table.keys()]).toEqual([...EVERY_TYPE.keys()]);
    for (const [name, value] of EVERY_TYPE) expect(table.get(name)).toEqual(value);
    expect(tableEquals(table, EVERY_TYPE)).toBe(true);
  });

  it('decodes at an offset and reports the end', () => {
    const buf = Buffer.concat([hex('aabb'), EVERY_TYPE_BYTES, hex('cc')]);
    const { table, end } = decodeFieldTable(buf, 2);
    expect(end).toBe(2 + EVERY_TYPE_BYTES.length);
    expect(tableEquals(table, EVERY_TYPE)).toBe(true);
  });

  it('encodes the empty table as a zero length', () => {
    expect(encodeFieldTable(new Map()).toString('hex')).toBe('00000000');
    expect(decodeFieldTable(hex('00000000'), 0)).toEqual({ table: new Map(), end: 4 });
  });

  it('agrees with amqplib on the every-type table', () => {
    // amqplib reads 'D' and 'T' into {'!': type, value} wrappers and the rest into plain values
    const plain = amqplibCodec.decodeFields(EVERY_TYPE_BYTES.subarray(4));
    expect(plain).toEqual({
      ...tableToPlain(EVERY_TYPE),
      D: { '!': 'decimal', value: { places: 2, digits: 1234 } },
      T: { '!': 'timestamp', value: 0x65000000 },
    });
  });

  it('decodes what amqplib encodes', () => {
    const value = {
      str: 'héllo',
      yes: true,
      small: 5,
      short: -300,
      int: 100000,
      long: 2 ** 40,
      float: 0.25,
      nothing: null,
      bytes: Buffer.from('raw'),
      list: [1, 'two', [false]],
      nested: { deep: { n: -7 } },
    };
    const table = decode(amqplibEncodeTable(value));
    expect(tableToPlain(table)).toEqual(value);
    expect(table.get('small')?.type).toBe('b');
    expect(table.get('short')?.type).toBe('s');
    expect(table.get('int')?.type).toBe('I');
    expect(table.get('long')?.type).toBe('l');
    expect(table.get('float')?.type).toBe('d');
  });

  it('round-trips random tables byte for byte and type for type', () => {
    fc.assert(
      fc.property(fieldTable(), (table) => {
        const bytes = encodeFieldTable(table);
        expect(bytes.length).toBe(fieldTableSize(table));
        const { table: back, end } = decodeFieldTable(bytes, 0);
        expect(end).toBe(bytes.length);
        expect(tableEquals(back, table)).toBe(true);
        expect(encodeFieldTable(back).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('amqplib decodes our random tables to the same plain values', () => {
    // amqplib wraps 'D' and 'T' values; leave those types out of the comparison
    const plainOnly = (v: FieldValue): boolean =>
      v.type === 'A'
        ? v.value.every(plainOnly)
        : v.type === 'F'
          ? [...v.value.values()].every(plainOnly)
          : v.type !== 'D' && v.type !== 'T';
    fc.assert(
      fc.property(fieldTable(), (table) => {
        fc.pre([...table.values()].every(plainOnly) && amqplibCanDecode(table));
        const bytes = encodeFieldTable(table);
        expect(amqplibCodec.decodeFields(bytes.subarray(4))).toEqual(tableToPlain(table));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects out-of-range values when encoding', () => {
    expectRangeError(() => encodeFieldTable(new Map([['x', { type: 'b', value: 128 }]])));
    expectRangeError(() => encodeFieldTable(new Map([['x', { type: 'i', value: -1 }]])));
    expectRangeError(() => encodeFieldTable(new Map([['x', { type: 'l', value: 1.5 }]])));
    expectRangeError(() => encodeFieldTable(new Map([['x', { type: 'T', value: -1 }]])));
    expectRangeError(() => encodeFieldTable(new Map([['x'.repeat(256), { type: 'V', value: null }]])));
  });
});

describe('field table decoding errors', () => {
  it('rejects an unknown field type with 502', () => {
    expectProtocolError(() => decode(hex('00000003 01 61 51')), 502, /unknown field type 0x51/);
  });

  it('rejects a table longer than the buffer with 502', () => {
    expectProtocolError(() => decode(hex('00000010 01 61 56')), 502, /truncated/);
    expectProtocolError(() => decode(hex('0000')), 502);
  });

  it('rejects values that cross the table end with 502', () => {
    // an 'I' needs 4 bytes but the table's length leaves 2
    expectProtocolError(() => decode(hex('00000005 01 61 49 0000 0000')), 502);
    // a name without its type octet
    expectProtocolError(() => decode(hex('00000002 01 61')), 502);
    // a nested string longer than its array
    expectProtocolError(() => decode(hex('0000000c 01 61 41 00000006 53 00000009 ff')), 502);
  });

  it('rejects every strict prefix of a valid table with 502', () => {
    for (let n = 0; n < EVERY_TYPE_BYTES.length; n++) {
      expectProtocolError(() => decode(EVERY_TYPE_BYTES.subarray(0, n)), 502);
    }
  });

  it('never throws anything but ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
        try {
          decode(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});

describe('plain values', () => {
  it('converts typed values to plain values', () => {
    expect(tableToPlain(EVERY_TYPE)).toEqual({
      t: true,
      b: -1,
      B: 255,
      s: -32768,
      u: 65535,
      I: -123,
      i: 0xffffffff,
      l: -1,
      f: 1.5,
      d: Math.PI,
      D: { places: 2, digits: 1234 },
      T: 0x65000000,
      S: 'hi',
      x: Buffer.from([1, 2]),
      A: [1, null],
      F: { k: true },
      V: null,
    });
  });

  it('infers types like client libraries do', () => {
    const date = new Date(1700000000123);
    const table = tableFromPlain({
      s: 'x',
      t: false,
      i: -5,
      big: 2 ** 31,
      neg: -(2 ** 31),
      l: -(2 ** 31) - 1,
      d: 1.5,
      huge: 2 ** 60,
      n: null,
      u: undefined,
      x: Buffer.from('b'),
      a: [1, 'a'],
      date,
      hint: { '!': 'uint8', value: 7 },
      hint2: { '!': 'T', value: 9 },
      o: { k: 1 },
    });
    const types = Object.fromEntries([...table].map(([k, v]) => [k, v.type]));
    expect(types).toEqual({
      s: 'S',
      t: 't',
      i: 'I',
      big: 'l',
      neg: 'I',
      l: 'l',
      d: 'd',
      huge: 'd',
      n: 'V',
      u: 'V',
      x: 'x',
      a: 'A',
      date: 'T',
      hint: 'B',
      hint2: 'T',
      o: 'F',
    });
    expect(table.get('date')).toEqual({ type: 'T', value: 1700000000 });
    expect(table.get('a')).toEqual({
      type: 'A',
      value: [
        { type: 'I', value: 1 },
        { type: 'S', value: 'a' },
      ],
    });
    expect(table.get('o')).toEqual({ type: 'F', value: new Map([['k', { type: 'I', value: 1 }]]) });
    expect(() => fromPlain(() => 1)).toThrow(TypeError);
    // an object whose '!' names no type is just a table
    expect(fromPlain({ '!': 'nonsense', value: 1 }).type).toBe('F');
    // nor is one with a known '!' but not exactly {'!', value} (fast-check found {'!': 'i'} read as uint32 0)
    expect(tableToPlain(decode(encodeFieldTable(tableFromPlain({ o: { '!': 'i' } }))))).toEqual({ o: { '!': 'i' } });
    expect(fromPlain({ '!': 'i', value: 1, extra: true }).type).toBe('F');
  });

  it('round-trips plain values through typed values', () => {
    const json = fc.jsonValue().filter((v) => !Object.is(v, -0));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), (plain) => {
        expect(tableToPlain(decode(encodeFieldTable(tableFromPlain(plain))))).toEqual(
          JSON.parse(JSON.stringify(plain), (_, v) => (Object.is(v, -0) ? 0 : v)),
        );
      }),
    );
  });

  it('toPlain is the identity on scalars', () => {
    expect(toPlain({ type: 'S', value: 'a' })).toBe('a');
    expect(toPlain({ type: 'V', value: null })).toBeNull();
  });
});

describe('equality', () => {
  it('is type-sensitive and deep', () => {
    expect(fieldEquals({ type: 'I', value: 1 }, { type: 'l', value: 1 })).toBe(false);
    expect(fieldEquals({ type: 'I', value: 1 }, { type: 'I', value: 1 })).toBe(true);
    expect(fieldEquals({ type: 'I', value: 1 }, { type: 'I', value: 2 })).toBe(false);
    expect(fieldEquals({ type: 'd', value: NaN }, { type: 'd', value: NaN })).toBe(true);
    expect(fieldEquals({ type: 'x', value: Buffer.from('a') }, { type: 'x', value: Buffer.from('a') })).toBe(true);
    expect(fieldEquals({ type: 'x', value: Buffer.from('a') }, { type: 'x', value: Buffer.from('b') })).toBe(false);
    expect(
      fieldEquals({ type: 'D', value: { places: 1, digits: 2 } }, { type: 'D', value: { places: 2, digits: 2 } }),
    ).toBe(false);
    const a = (...v: FieldValue[]): FieldValue => ({ type: 'A', value: v });
    expect(fieldEquals(a({ type: 'S', value: 'x' }), a({ type: 'S', value: 'x' }))).toBe(true);
    expect(fieldEquals(a({ type: 'S', value: 'x' }), a({ type: 'S', value: 'x' }, { type: 'V', value: null }))).toBe(
      false,
    );
    expect(fieldEquals(a({ type: 'S', value: 'x' }), a({ type: 'S', value: 'y' }))).toBe(false);
  });

  it('compares tables by content, ignoring order; undefined equals empty', () => {
    const one = tableFromPlain({ a: 1, b: { c: 'x' } });
    const reordered = tableFromPlain({ b: { c: 'x' }, a: 1 });
    expect(tableEquals(one, reordered)).toBe(true);
    expect(tableEquals(one, tableFromPlain({ a: 1, b: { c: 'y' } }))).toBe(false);
    expect(tableEquals(one, tableFromPlain({ a: 1 }))).toBe(false);
    expect(tableEquals(tableFromPlain({ a: 1 }), tableFromPlain({ b: 1 }))).toBe(false);
    expect(tableEquals(undefined, new Map())).toBe(true);
    expect(tableEquals(new Map(), undefined)).toBe(true);
    expect(tableEquals(undefined, one)).toBe(false);
  });

  it('every random value equals itself and its decoded copy', () => {
    fc.assert(
      fc.property(fieldValue(), (value) => {
        const table = new Map([['v', value]]);
        const copy = decode(encodeFieldTable(table)).get('v') as FieldValue;
        expect(fieldEquals(value, value)).toBe(true);
        expect(fieldEquals(copy, value)).toBe(true);
      }),
    );
  });
});
