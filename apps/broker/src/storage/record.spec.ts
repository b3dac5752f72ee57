import { encodeBasicProperties } from '@warren/amqp-protocol';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Message, QueuedMessage } from '../message';
import { DurableStore } from './durable-store';
import { FLAG_BCC, FLAG_PERSISTENT, readRecord, recordSize, StoredMessage, writeRecord } from './record';
import { SegmentLog } from './segment-log';

const PERSISTENT = encodeBasicProperties({ deliveryMode: 2, contentType: 'text/plain' });

function message(bcc?: string[], props = PERSISTENT, body = 'hello'): Message {
  const m = new Message('ex', 'rk', props, Buffer.from(body));
  m.bcc = bcc;
  return m;
}

function encode(m: Message, expiresAt = 0, at = 0): Buffer {
  const out = Buffer.alloc(at + recordSize(m));
  expect(writeRecord(out, at, m, expiresAt)).toBe(out.length);
  return out;
}

function decoded(buf: Buffer, offset = 0): StoredMessage {
  const r = readRecord(buf, offset);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

/** A record as the writer made it before FLAG_BCC existed: the fields, byte by byte, ending with the body. */
function oldFormatRecord(
  flags: number,
  priority: number,
  expiresAt: number,
  exchange: string,
  key: string,
  props: Buffer,
  body: Buffer,
): Buffer {
  const fields = Buffer.concat([
    Buffer.from([flags, priority]),
    (() => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(expiresAt);
      return b;
    })(),
    Buffer.from([Buffer.byteLength(exchange)]),
    Buffer.from(exchange),
    Buffer.from([Buffer.byteLength(key)]),
    Buffer.from(key),
    u32(props.length),
    props,
    u32(body.length),
    body,
  ]);
  return Buffer.concat([u32(fields.length + 4), u32(crc32(fields)), fields]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Rewrites a record's checksum after its bytes were tampered with, so that only the structure is wrong. */
function reseal(record: Buffer): Buffer {
  record.writeUInt32BE(crc32(record.subarray(8)), 4);
  return record;
}

describe('message records', () => {
  it('round-trips a message without BCC keys: no BCC flag, ends with the body, reads back with bcc undefined', () => {
    const m = message(undefined, PERSISTENT, 'body bytes');
    const buf = encode(m, 1234.5);
    expect(buf[8] & FLAG_BCC).toBe(0);
    expect(buf[8] & FLAG_PERSISTENT).toBe(FLAG_PERSISTENT);
    expect(buf.subarray(buf.length - 10).toString()).toBe('body bytes');
    const r = decoded(buf);
    expect(r).toMatchObject({ persistent: true, priority: 0, expiresAt: 1234.5, length: buf.length });
    expect([r.message.exchange, r.message.routingKey, r.message.body.toString()]).toEqual(['ex', 'rk', 'body bytes']);
    expect(r.message.rawProperties.equals(PERSISTENT)).toBe(true);
    expect(r.message.bcc).toBeUndefined();
  });

  it('an empty BCC list is written as none', () => {
    const buf = encode(message([]));
    expect(buf[8] & FLAG_BCC).toBe(0);
    expect(buf.equals(encode(message(undefined)))).toBe(true);
    expect(decoded(buf).message.bcc).toBeUndefined();
  });

  it('round-trips BCC keys, in order, duplicates, empty, multi-byte and longer than a short string included', () => {
    const keys = ['bcc1', 'bcc1', '', 'clé-ü-键', 'k'.repeat(300)];
    const buf = encode(message(keys), 0, 7);
    expect(buf[7 + 8] & FLAG_BCC).toBe(FLAG_BCC);
    const r = decoded(buf, 7);
    expect(r.message.bcc).toEqual(keys);
    expect(r.message.body.toString()).toBe('hello');
    expect(r.length).toBe(buf.length - 7);
    // the BCC keys are not in the stored headers: the properties are the publisher's bytes
    expect(r.message.rawProperties.equals(PERSISTENT)).toBe(true);
  });

  it('round-trips any message, with or without BCC keys, back to back in one buffer', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            exchange: fc.string({ maxLength: 40 }),
            key: fc.string({ maxLength: 60 }),
            body: fc.uint8Array({ maxLength: 200 }),
            bcc: fc.option(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { maxLength: 6 }), {
              nil: undefined,
            }),
            persistent: fc.boolean(),
            priority: fc.integer({ min: 0, max: 255 }),
            expiresAt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 52 })),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (specs) => {
          const messages = specs.map((s) => {
            const m = new Message(
              s.exchange,
              s.key,
              encodeBasicProperties({ deliveryMode: s.persistent ? 2 : 1, priority: s.priority }),
              Buffer.from(s.body),
            );
            m.bcc = s.bcc;
            return m;
          });
          const buf = Buffer.alloc(messages.reduce((n, m) => n + recordSize(m), 0));
          let offset = 0;
          messages.forEach((m, i) => (offset = writeRecord(buf, offset, m, specs[i].expiresAt)));
          expect(offset).toBe(buf.length);
          offset = 0;
          specs.forEach((s, i) => {
            const r = decoded(buf, offset);
            expect(r.message.exchange).toBe(s.exchange);
            expect(r.message.routingKey).toBe(s.key);
            expect([...r.message.body]).toEqual([...s.body]);
            expect(r.message.bcc).toEqual(s.bcc !== undefined && s.bcc.length > 0 ? s.bcc : undefined);
            expect([r.persistent, r.priority, r.expiresAt]).toEqual([s.persistent, s.priority, s.expiresAt]);
            expect(r.length).toBe(recordSize(messages[i]));
            offset += r.length;
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a record written in the format from before BCC keys were stored', () => {
    const props = encodeBasicProperties({
      deliveryMode: 2,
      priority: 3,
      headers: new Map([['CC', { type: 'A', value: [{ type: 'S', value: 'cc1' }] }]]),
    });
    const old = oldFormatRecord(FLAG_PERSISTENT, 3, 99, 'orders', 'order.placed', props, Buffer.from('payload'));
    const r = decoded(old);
    expect(r).toMatchObject({ persistent: true, priority: 3, expiresAt: 99, length: old.length });
    expect([r.message.exchange, r.message.routingKey, r.message.body.toString()]).toEqual([
      'orders',
      'order.placed',
      'payload',
    ]);
    expect(r.message.rawProperties.equals(props)).toBe(true);
    expect(r.message.bcc).toBeUndefined();
    // and the writer still produces exactly those bytes for a message without BCC keys
    const m = new Message('orders', 'order.placed', props, Buffer.from('payload'));
    expect(encode(m, 99).equals(old)).toBe(true);
    // a transient old record too
    expect(decoded(oldFormatRecord(0, 0, 0, '', 'q', Buffer.from([0, 0]), Buffer.alloc(0))).persistent).toBe(false);
  });

  describe('a record with FLAG_BCC whose BCC section is not well formed is corrupt', () => {
    const base = () => encode(message(['ab', 'cd']));
    const bodyEnd = (buf: Buffer) => buf.length - (4 + 2 * (4 + 2));

    it('the flag set on a record that ends with its body', () => {
      const old = oldFormatRecord(FLAG_PERSISTENT | FLAG_BCC, 0, 0, 'ex', 'rk', PERSISTENT, Buffer.from('x'));
      expect(readRecord(old, 0)).toBe('corrupt');
    });

    it('the flag cleared on a record with a BCC section (bytes after the body)', () => {
      const buf = base();
      buf[8] &= ~FLAG_BCC;
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
    });

    it('a count larger than the keys that follow', () => {
      const buf = base();
      buf.writeUInt32BE(3, bodyEnd(buf));
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
      buf.writeUInt32BE(0xffffffff, bodyEnd(buf));
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
    });

    it('a count smaller than the keys that follow (trailing bytes)', () => {
      const buf = base();
      buf.writeUInt32BE(1, bodyEnd(buf));
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
    });

    it('a key length running past the record', () => {
      const buf = base();
      buf.writeUInt32BE(50, buf.length - 6);
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
    });

    it('a body length running into the BCC section', () => {
      const buf = base();
      const at = bodyEnd(buf) - 5 - 4; // body 'hello' and its length before the BCC section
      buf.writeUInt32BE(5 + 12, at);
      expect(readRecord(reseal(buf), 0)).toBe('corrupt');
    });

    it('a checksum that does not match, and a record cut short', () => {
      const buf = base();
      buf[buf.length - 1] ^= 1;
      expect(readRecord(buf, 0)).toBe('corrupt');
      expect(readRecord(base().subarray(0, base().length - 1), 0)).toBe('incomplete');
    });
  });
});

describe('BCC keys of a durable queue', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'warren-record-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (m: Message): QueuedMessage => ({ message: m, seq: 0, expiresAt: 0, redelivered: false });
  const open = (): { log: SegmentLog; store: DurableStore } => {
    const log = new SegmentLog(dir, () => undefined);
    return { log, store: new DurableStore(log) };
  };

  it('come back for messages read from disk: deeper than the in-memory window, and after a restart', () => {
    let { store } = open();
    expect(store.recover()).toBe(0);
    // 1,500 messages: past the window of 1,024, so the later ones are kept on disk only
    for (let i = 0; i < 1500; i++)
      store.push(entry(message(i % 100 === 99 ? [`bcc-${i}`, 'shared'] : undefined, PERSISTENT, `m${i}`)));
    const first = [];
    for (let i = 0; i < 1500; i++) {
      const e = store.shift() as QueuedMessage;
      first.push([e.message.body.toString(), e.message.bcc]);
      if (i < 750) store.done(e); // the second half is left unacknowledged: it comes back after the restart
    }
    const want = (i: number) => [`m${i}`, i % 100 === 99 ? [`bcc-${i}`, 'shared'] : undefined];
    expect(first).toEqual(Array.from({ length: 1500 }, (_, i) => want(i)));
    store.close();

    ({ store } = open());
    expect(store.recover()).toBe(750);
    const after = [];
    for (let e = store.shift(); e; e = store.shift()) after.push([e.message.body.toString(), e.message.bcc]);
    expect(after).toEqual(Array.from({ length: 750 }, (_, i) => want(750 + i)));
    store.close();
  });
});
