import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import {
  readI64Exact,
  readLongstr,
  readShortstr,
  readShortstrUtf8,
  readText,
  readU64Exact,
  shortstrMaxSize,
  textByteLength,
  textBytes,
  writeI64,
  writeLongstr,
  writeShortstr,
  writeU64,
} from './codec';
import { protocolError } from './testing/protocol-error';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (buf: Buffer) => readText(buf, 0, buf.length);
/** The escape readText uses for a byte that is not part of well-formed UTF-8. */
const esc = (byte: number) => String.fromCharCode(0xdc00 + byte);

/** Node's own RangeErrors come from another realm than jest's globals, so match by name. */
const rangeError = expect.objectContaining({ name: 'RangeError' });

/**
 * A reference decoder built on Node's isUtf8 alone: at each position the shortest prefix (1 to 4 bytes) that
 * is well-formed UTF-8 is one code point; a byte that starts no such prefix is escaped.
 */
function referenceText(buf: Buffer): string {
  let out = '';
  for (let i = 0; i < buf.length;) {
    let n = 1;
    while (n <= 4 && !(i + n <= buf.length && isUtf8(buf.subarray(i, i + n)))) n++;
    if (n <= 4) {
      out += buf.toString('utf8', i, i + n);
      i += n;
    } else {
      out += esc(buf[i]);
      i += 1;
    }
  }
  return out;
}

/** Byte strings near UTF-8: valid characters, stray lead and continuation bytes, and the classic malformations. */
const TRICKY = [
  'c0 80',
  'c1 bf',
  'e0 80 80',
  'e0 9f bf',
  'ed a0 80',
  'ed bf bf',
  'f0 80 80 80',
  'f0 8f bf bf',
  'f4 90 80 80',
  'f5 80 80 80',
  'ff',
  'fe',
  '80',
  'bf',
  'e2 82',
  'f0 9f 98',
  'c3',
  'ed 9f bf',
  'ee 80 80',
  'ef bf bf',
  'f4 8f bf bf',
  'f0 90 80 80',
  'c2 80',
  'e0 a0 80',
].map(hex);
const utf8Ish: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).map((s) => Buffer.from(s, 'utf8')),
      fc.constantFrom(...TRICKY),
      fc.integer({ min: 0x80, max: 0xff }).map((b) => Buffer.from([b])),
      fc.integer({ min: 0, max: 0x7f }).map((b) => Buffer.from([b])),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.concat(parts));
const anyBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  utf8Ish,
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => Buffer.from(s, 'utf8')),
);

describe('readText and textBytes', () => {
  it('textBytes(readText(b)) is b for any bytes, and textByteLength agrees', () => {
    fc.assert(
      fc.property(anyBytes, (buf) => {
        const s = text(buf);
        expect(textBytes(s).toString('hex')).toBe(buf.toString('hex'));
        expect(textByteLength(s)).toBe(buf.length);
      }),
      { numRuns: 1500 },
    );
  });

  it('decodes like a reference decoder built on isUtf8', () => {
    fc.assert(
      fc.property(anyBytes, (buf) => {
        expect(text(buf)).toBe(referenceText(buf));
      }),
      { numRuns: 800 },
    );
  });

  it('decodes within bounds, at any offset of a larger buffer', () => {
    fc.assert(
      fc.property(anyBytes, anyBytes, anyBytes, (before, buf, after) => {
        const whole = Buffer.concat([before, buf, after]);
        expect(readText(whole, before.length, before.length + buf.length)).toBe(text(buf));
      }),
      { numRuns: 300 },
    );
  });

  it('is Buffer#toString for valid UTF-8, and escapes something exactly when the bytes are not valid UTF-8', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string()), (s) => {
        const buf = Buffer.from(s, 'utf8');
        expect(text(buf)).toBe(buf.toString('utf8'));
        expect(text(buf)).toBe(s);
        expect(textBytes(s).equals(buf)).toBe(true);
        expect(textByteLength(s)).toBe(buf.length);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(anyBytes, (buf) => {
        const escaped = /[\udc80-\udcff]/.test(text(buf).replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
        expect(escaped).toBe(!isUtf8(buf));
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a supplementary character followed by an invalid byte', 'f0 9f 98 80 ff', '\u{1f600}' + esc(0xff)],
    ['an invalid byte followed by a supplementary character', 'ff f0 9f 98 80', esc(0xff) + '\u{1f600}'],
    ['an overlong three-byte NUL', 'e0 80 80', esc(0xe0) + esc(0x80) + esc(0x80)],
    ['overlong two-byte sequences', 'c0 af c1 bf', esc(0xc0) + esc(0xaf) + esc(0xc1) + esc(0xbf)],
    ['an overlong four-byte sequence', 'f0 8f bf bf', esc(0xf0) + esc(0x8f) + esc(0xbf) + esc(0xbf)],
    ['an encoded surrogate', 'ed a0 80', esc(0xed) + esc(0xa0) + esc(0x80)],
    ['an encoded low surrogate', 'ed bf bf', esc(0xed) + esc(0xbf) + esc(0xbf)],
    ['a code point above U+10FFFF', 'f4 90 80 80', esc(0xf4) + esc(0x90) + esc(0x80) + esc(0x80)],
    ['F5..FF lead bytes', 'f5 f8 fe ff', esc(0xf5) + esc(0xf8) + esc(0xfe) + esc(0xff)],
    ['a truncated three-byte sequence at the end', '61 62 e2 82', 'ab' + esc(0xe2) + esc(0x82)],
    ['a truncated four-byte sequence at the end', 'f0 9f 98', esc(0xf0) + esc(0x9f) + esc(0x98)],
    ['a three-byte sequence cut by an ASCII byte', 'e2 82 41 ac', esc(0xe2) + esc(0x82) + 'A' + esc(0xac)],
    ['a lone continuation byte between valid text', 'c3 a9 80 c3 a9', 'é' + esc(0x80) + 'é'],
    ['valid text next to a dangling lead byte', 'c3 a9 ff c3', 'é' + esc(0xff) + esc(0xc3)],
    ['the largest code points of each length', 'c2 80 df bf ef bf bf f4 8f bf bf', '\u0080\u07ff\uffff\u{10ffff}'],
    ['the code points around the surrogates', 'ed 9f bf ee 80 80', '\ud7ff\ue000'],
    ['the smallest non-overlong sequences', 'e0 a0 80 f0 90 80 80', '\u0800\u{10000}'],
  ])('%s', (_, bytes, expected) => {
    const buf = hex(bytes);
    expect(text(buf)).toBe(expected);
    expect(textBytes(expected).toString('hex')).toBe(buf.toString('hex'));
    expect(textByteLength(expected)).toBe(buf.length);
  });

  it('reads ASCII and latin1-looking bytes correctly', () => {
    expect(text(Buffer.from('plain ascii'))).toBe('plain ascii');
    expect(text(hex('e9'))).toBe(esc(0xe9)); // latin1 é is not UTF-8
    expect(text(Buffer.alloc(0))).toBe('');
  });

  it('textBytes keeps ordinary characters and restores only escapes', () => {
    expect(textBytes('\u{1f600}' + esc(0xff))).toEqual(hex('f0 9f 98 80 ff'));
    expect(textBytes(esc(0x80) + 'x' + esc(0xfe))).toEqual(hex('80 78 fe'));
    // U+D800 U+DC80 is a pair (U+10080), not a lone high surrogate and an escape
    expect(textBytes('\ud800\udc80')).toEqual(Buffer.from('\u{10080}', 'utf8'));
    // a lone surrogate outside U+DC80..U+DCFF is no escape: UTF-8 has no form for it (U+FFFD)
    expect(textBytes('\udc7f')).toEqual(hex('ef bf bd'));
    expect(textByteLength('\udc7f' + esc(0x90))).toBe(4);
  });
});

describe('shortstr and longstr', () => {
  const ff255 = Buffer.concat([Buffer.from([255]), Buffer.alloc(255, 0xff)]);

  it('round-trips a shortstr of 255 bytes of 0xff at 255 bytes', () => {
    const s = readShortstr(ff255, 0);
    expect(s).toBe(esc(0xff).repeat(255));
    expect(textByteLength(s)).toBe(255);
    expect(shortstrMaxSize(s)).toBeGreaterThanOrEqual(256);
    const out = Buffer.alloc(256);
    expect(writeShortstr(out, 0, s)).toBe(256);
    expect(out.equals(ff255)).toBe(true);
  });

  it('round-trips any shortstr bytes, at an offset', () => {
    fc.assert(
      fc.property(
        anyBytes.map((b) => b.subarray(0, 255)),
        fc.nat(8),
        (bytes, at) => {
          const wire = Buffer.concat([Buffer.alloc(at, 0x41), Buffer.from([bytes.length]), bytes]);
          const s = readShortstr(wire, at);
          expect(shortstrMaxSize(s)).toBeGreaterThanOrEqual(1 + bytes.length);
          const out = Buffer.alloc(at + shortstrMaxSize(s), 0x41);
          expect(writeShortstr(out, at, s)).toBe(wire.length);
          expect(out.subarray(0, wire.length).toString('hex')).toBe(wire.toString('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses to write a shortstr whose escaped bytes exceed 255', () => {
    expect(() => writeShortstr(Buffer.alloc(300), 0, esc(0xff).repeat(256))).toThrow(rangeError);
    expect(() => writeShortstr(Buffer.alloc(300), 0, 'a'.repeat(255) + esc(0x80))).toThrow(rangeError);
    expect(writeShortstr(Buffer.alloc(300), 0, 'a'.repeat(254) + esc(0x80))).toBe(256);
  });

  it('readShortstrUtf8 is readShortstr for valid UTF-8 and a 501 otherwise', () => {
    fc.assert(
      fc.property(
        anyBytes.map((b) => b.subarray(0, 255)),
        (bytes) => {
          const wire = Buffer.concat([Buffer.from([bytes.length]), bytes]);
          if (isUtf8(bytes)) {
            expect(readShortstrUtf8(wire, 0)).toBe(bytes.toString('utf8'));
            expect(readShortstrUtf8(wire, 0)).toBe(readShortstr(wire, 0));
          } else {
            const err = protocolError(() => readShortstrUtf8(wire, 0));
            expect(err.code).toBe(501);
            expect(err.message).toBe('Malformed UTF-8 in shortstr');
          }
        },
      ),
      { numRuns: 800 },
    );
    const err = protocolError(() => readShortstrUtf8(ff255, 0));
    expect([err.code, err.message]).toEqual([501, 'Malformed UTF-8 in shortstr']);
  });

  it('readShortstrUtf8 reports truncation as 502, not as malformed UTF-8', () => {
    expect(protocolError(() => readShortstrUtf8(hex('05 ff ff'), 0)).code).toBe(502);
    expect(protocolError(() => readShortstrUtf8(Buffer.alloc(0), 0)).code).toBe(502);
  });

  it('round-trips any longstr bytes', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const wire = Buffer.concat([Buffer.from([0, 0, bytes.length >>> 8, bytes.length & 0xff]), bytes]);
        const s = readLongstr(wire, 0);
        const out = Buffer.alloc(4 + 3 * s.length);
        expect(writeLongstr(out, 0, s)).toBe(wire.length);
        expect(out.subarray(0, wire.length).toString('hex')).toBe(wire.toString('hex'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('64-bit integers', () => {
  const TWO_53 = 2n ** 53n;
  // all 8-byte patterns, weighted towards the edges of the exact number range
  const edges = [
    0n,
    1n,
    TWO_53 - 1n,
    TWO_53,
    TWO_53 + 1n,
    -TWO_53,
    -TWO_53 - 1n,
    -TWO_53 + 1n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    -1n,
  ];
  const eightBytes: fc.Arbitrary<Buffer> = fc.oneof(
    fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a)),
    fc.tuple(fc.constantFrom(...edges), fc.integer({ min: -3, max: 3 })).map(([e, d]) => {
      const buf = Buffer.alloc(8);
      buf.writeBigUInt64BE(BigInt.asUintN(64, e + BigInt(d)));
      return buf;
    }),
  );

  it('readU64Exact is exact: a number up to 2^53 - 1, a bigint beyond', () => {
    fc.assert(
      fc.property(eightBytes, (buf) => {
        const exact = buf.readBigUInt64BE(0);
        const v = readU64Exact(buf, 0);
        expect(typeof v).toBe(exact < TWO_53 ? 'number' : 'bigint');
        expect(BigInt(v)).toBe(exact);
        const out = Buffer.alloc(8);
        expect(writeU64(out, 0, v)).toBe(8);
        expect(out.toString('hex')).toBe(buf.toString('hex'));
      }),
      { numRuns: 1000 },
    );
    expect(readU64Exact(hex('ffffffffffffffff'), 0)).toBe(18446744073709551615n);
    expect(readU64Exact(hex('001fffffffffffff'), 0)).toBe(Number.MAX_SAFE_INTEGER);
    expect(readU64Exact(hex('0020000000000000'), 0)).toBe(9007199254740992n);
  });

  it('readI64Exact is exact: a number within the safe range, a bigint beyond ±2^53', () => {
    fc.assert(
      fc.property(eightBytes, (buf) => {
        const exact = buf.readBigInt64BE(0);
        const v = readI64Exact(buf, 0);
        if (exact >= -TWO_53 + 1n && exact <= TWO_53 - 1n) expect(typeof v).toBe('number');
        if (exact > TWO_53 || exact < -TWO_53) expect(typeof v).toBe('bigint');
        expect(BigInt(v)).toBe(exact);
        const out = Buffer.alloc(8);
        expect(writeI64(out, 0, v)).toBe(8);
        expect(out.toString('hex')).toBe(buf.toString('hex'));
      }),
      { numRuns: 1000 },
    );
    expect(readI64Exact(hex('7fffffffffffffff'), 0)).toBe(9223372036854775807n);
    expect(readI64Exact(hex('8000000000000000'), 0)).toBe(-9223372036854775808n);
    expect(readI64Exact(hex('ffffffffffffffff'), 0)).toBe(-1);
    expect(readI64Exact(hex('ffe0000000000001'), 0)).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('writeU64 and writeI64 take bigints over the full range and refuse values outside it', () => {
    const out = Buffer.alloc(8);
    writeU64(out, 0, 2n ** 64n - 1n);
    expect(out).toEqual(hex('ffffffffffffffff'));
    writeI64(out, 0, -(2n ** 63n));
    expect(out).toEqual(hex('8000000000000000'));
    writeI64(out, 0, -2n);
    expect(out).toEqual(hex('fffffffffffffffe'));
    expect(() => writeU64(out, 0, 2n ** 64n)).toThrow(rangeError);
    expect(() => writeU64(out, 0, -1n)).toThrow(rangeError);
    expect(() => writeI64(out, 0, 2n ** 63n)).toThrow(rangeError);
    expect(() => writeI64(out, 0, -(2n ** 63n) - 1n)).toThrow(rangeError);
    expect(() => writeU64(out, 0, -1)).toThrow(rangeError);
    expect(() => writeU64(out, 0, 0.5)).toThrow(rangeError);
  });
});
