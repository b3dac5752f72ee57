// Tables and arrays nested past MAX_FIELD_DEPTH levels are refused with 501 frame-error, whether they come in a
// bare table, a method's table argument or a message's headers; never with a RangeError from a blown stack.

import {
  decodeBasicProperties,
  decodeFieldTable,
  decodeMethod,
  encodeBasicProperties,
  encodeFieldTable,
  encodeMethod,
  MAX_FIELD_DEPTH,
  ProtocolError,
  QUEUE_DECLARE,
  type FieldTable,
  type FieldValue,
} from './index';

type Kind = 'F' | 'A';

/**
 * A field table of `levels` levels, the top-level table counting as one: each level holds just the next one
 * ('F': an entry "n" holding a table; 'A': an array holding an array, under the entry "n" of the top table).
 * `kinds` picks the kind of each nested level (levels - 1 of them), cycling. Built in one pass: thousands of
 * levels must not cost quadratic copying.
 */
function nestedTable(levels: number, kinds: Kind[]): Buffer {
  // headers from the outside in; each holds a uint32 length at `at`, counting everything after it
  const parts: { bytes: Buffer; at: number }[] = [{ bytes: Buffer.alloc(4), at: 0 }];
  for (let level = 2; level <= levels; level++) {
    const kind = kinds[(level - 2) % kinds.length];
    const parentIsTable = level === 2 || kinds[(level - 3) % kinds.length] === 'F';
    const head = parentIsTable
      ? Buffer.from([1, 0x6e, kind.charCodeAt(0), 0, 0, 0, 0])
      : Buffer.from([kind.charCodeAt(0), 0, 0, 0, 0]);
    parts.push({ bytes: head, at: head.length - 4 });
  }
  let after = 0;
  for (let i = parts.length - 1; i >= 0; i--) {
    const { bytes, at } = parts[i];
    bytes.writeUInt32BE(after + bytes.length - at - 4, at);
    after += bytes.length;
  }
  return Buffer.concat(parts.map((p) => p.bytes));
}

/** How many levels a decoded table has (the table itself counting one; scalars add none). */
function depthOf(table: FieldTable, depth = 1): number {
  let max = depth;
  for (const v of table.values()) max = Math.max(max, valueDepth(v, depth + 1));
  return max;
}

function valueDepth(v: FieldValue, depth: number): number {
  if (v.type === 'F') return depthOf(v.value, depth);
  if (v.type !== 'A') return 0;
  let max = depth;
  for (const item of v.value) max = Math.max(max, valueDepth(item, depth + 1));
  return max;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function expectTooDeep(fn: () => unknown): void {
  const err = thrown(fn) as Error;
  expect(err.name).not.toBe('RangeError');
  expect(err).toBeInstanceOf(ProtocolError);
  expect((err as ProtocolError).code).toBe(501);
  expect(err.message).toMatch(/nested deeper than 128 levels/);
}

const queueDeclare = (table: Buffer) => Buffer.concat([Buffer.from([0, 0x32, 0, 0x0a, 0, 0, 1, 0x71, 0]), table]);
const headersOnly = (table: Buffer) => Buffer.concat([Buffer.from([0x20, 0x00]), table]);

const SHAPES: [string, Kind[]][] = [
  ['tables', ['F']],
  ['arrays', ['A']],
  ['tables and arrays in turn', ['F', 'A']],
];

describe('nesting limit', () => {
  it('is 128', () => {
    expect(MAX_FIELD_DEPTH).toBe(128);
  });

  it('builds what it says (a self-check of the helper)', () => {
    expect(nestedTable(1, ['F'])).toEqual(Buffer.from('00000000', 'hex'));
    expect(nestedTable(2, ['F'])).toEqual(Buffer.from('00000007 01 6e 46 00000000'.replace(/ /g, ''), 'hex'));
    expect(nestedTable(3, ['A'])).toEqual(
      Buffer.from('0000000c 01 6e 41 00000005 41 00000000'.replace(/ /g, ''), 'hex'),
    );
    expect(nestedTable(3, ['F', 'A'])).toEqual(
      Buffer.from('0000000e 01 6e 46 00000007 01 6e 41 00000000'.replace(/ /g, ''), 'hex'),
    );
    for (const [, kinds] of SHAPES) expect(depthOf(decodeFieldTable(nestedTable(20, kinds), 0).table)).toBe(20);
  });

  describe.each(SHAPES)('of %s', (_, kinds) => {
    it('decodes exactly 128 levels and re-encodes them to the same bytes', () => {
      const bytes = nestedTable(128, kinds);
      const { table, end } = decodeFieldTable(bytes, 0);
      expect(end).toBe(bytes.length);
      expect(depthOf(table)).toBe(128);
      expect(encodeFieldTable(table).equals(bytes)).toBe(true);
    });

    it('refuses 129 levels with 501', () => {
      expectTooDeep(() => decodeFieldTable(nestedTable(129, kinds), 0));
    });

    it.each([3500, 20000])('refuses %d levels with a 501, not a stack overflow', (levels) => {
      expectTooDeep(() => decodeFieldTable(nestedTable(levels, kinds), 0));
    });

    it('passes the 501 through decodeMethod (queue.declare arguments)', () => {
      const ok = queueDeclare(nestedTable(128, kinds));
      const m = decodeMethod(ok);
      expect(depthOf((m.args as { arguments: FieldTable }).arguments)).toBe(128);
      expect(encodeMethod(QUEUE_DECLARE, m.args).equals(ok)).toBe(true);
      for (const levels of [129, 3500, 20000])
        expectTooDeep(() => decodeMethod(queueDeclare(nestedTable(levels, kinds))));
    });

    it('passes the 501 through decodeBasicProperties (headers)', () => {
      const ok = headersOnly(nestedTable(128, kinds));
      const props = decodeBasicProperties(ok);
      expect(depthOf(props.headers as FieldTable)).toBe(128);
      expect(encodeBasicProperties(props).equals(ok)).toBe(true);
      for (const levels of [129, 3500, 20000])
        expectTooDeep(() => decodeBasicProperties(headersOnly(nestedTable(levels, kinds))));
    });
  });

  it('counts depth along one branch: many siblings at depth 128 are fine', () => {
    // the top table (1) holds an array (2) of 100 tables (3) of 126 levels each: 128 levels in all
    const inner = nestedTable(126, ['F']);
    const items = Buffer.concat(Array.from({ length: 100 }, () => Buffer.concat([Buffer.from('F'), inner])));
    const arr = Buffer.concat([Buffer.from([1, 0x61, 0x41]), Buffer.alloc(4), items]);
    arr.writeUInt32BE(items.length, 3);
    const top = Buffer.concat([Buffer.alloc(4), arr]);
    top.writeUInt32BE(arr.length, 0);
    const { table } = decodeFieldTable(top, 0);
    expect(depthOf(table)).toBe(128);
    expect(encodeFieldTable(table).equals(top)).toBe(true);
    // one level more in the last table only
    const deeper = Buffer.concat([Buffer.from('F'), nestedTable(127, ['F'])]);
    const items2 = Buffer.concat([items.subarray(0, items.length - 1 - inner.length), deeper]);
    const arr2 = Buffer.concat([Buffer.from([1, 0x61, 0x41]), Buffer.alloc(4), items2]);
    arr2.writeUInt32BE(items2.length, 3);
    const top2 = Buffer.concat([Buffer.alloc(4), arr2]);
    top2.writeUInt32BE(arr2.length, 0);
    expectTooDeep(() => decodeFieldTable(top2, 0));
  });
});
