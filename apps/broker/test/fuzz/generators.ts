// Input for the protocol fuzzer: frames a client could send after the handshake, built from the wire up so they
// can carry what no codec would encode (malformed UTF-8, 64-bit extremes, NaN payloads, tables thousands of
// levels deep), and mutations of those frames (flipped bits, cut payloads, sizes that lie, wrong channels).
// Every choice comes from the seeded Prng, so a failing run replays with its seed.
import * as P from '@warren/amqp-protocol';
import type { Prng } from '../../../../tools/testing/prng';

/** Byte-level writer for hostile payloads. */
class Bytes {
  private readonly parts: Buffer[] = [];
  u8(n: number): this {
    return this.raw(Buffer.from([n & 0xff]));
  }
  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n & 0xffff);
    return this.raw(b);
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return this.raw(b);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  shortstr(b: Buffer): this {
    return this.u8(b.length).raw(b);
  }
  longstr(b: Buffer): this {
    return this.u32(b.length).raw(b);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function frame(type: number, channel: number, payload: Buffer): Buffer {
  return new Bytes().u8(type).u16(channel).u32(payload.length).raw(payload).u8(P.FRAME_END).build();
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xc0, 0xc3, 0xed, 0xf4, 0xfe, 0xff];

function randomBytes(prng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = prng.chance(0.3) ? prng.pick(INTERESTING_BYTES) : prng.int(0, 255);
  return b;
}

/** Text for a shortstr: mostly names a client would use, sometimes multi-byte, malformed or at 255 bytes. */
export function text(prng: Prng, names: readonly string[]): Buffer {
  switch (prng.int(0, 6)) {
    case 0:
      return Buffer.alloc(0);
    case 1:
      return randomBytes(prng, prng.int(1, 255));
    case 2:
      return Buffer.alloc(255, prng.pick([0x61, 0xff, 0xc3]));
    case 3:
      return Buffer.from(`fuzz-☃-${prng.int(0, 9)}`);
    default:
      return Buffer.from(prng.pick(names));
  }
}

/** A field value (type octet + value) of any type, with extreme values; `depth` bounds ordinary nesting. */
function fieldValue(prng: Prng, depth: number): Buffer {
  const type = prng.pick([
    't',
    'b',
    'B',
    's',
    'u',
    'I',
    'i',
    'l',
    'f',
    'd',
    'D',
    'T',
    'S',
    'x',
    'V',
    'A',
    'F',
  ] as const);
  const b = new Bytes().u8(type.charCodeAt(0));
  const size: Record<string, number> = { t: 1, b: 1, B: 1, s: 2, u: 2, I: 4, i: 4, l: 8, f: 4, d: 8, D: 5, T: 8, V: 0 };
  if (type in size) {
    const n = size[type];
    const extreme = prng.pick([0x00, 0xff, 0x7f, 0x80]);
    return b.raw(prng.chance(0.5) ? Buffer.alloc(n, extreme) : randomBytes(prng, n)).build();
  }
  if (type === 'S' || type === 'x') return b.longstr(randomBytes(prng, prng.int(0, 40))).build();
  if (depth <= 0) return new Bytes().u8(0x56).build(); // 'V'
  if (type === 'A') {
    const items = new Bytes();
    for (let i = prng.int(0, 3); i > 0; i--) items.raw(fieldValue(prng, depth - 1));
    return b.longstr(items.build()).build();
  }
  return b.raw(table(prng, depth - 1)).build();
}

/** A field table; now and then one nested far deeper than the codec's limit, or with malformed names. */
export function table(prng: Prng, depth = 3, interesting: readonly [string, Buffer][] = []): Buffer {
  const entries = new Bytes();
  for (let i = prng.int(0, 4); i > 0; i--)
    entries
      .shortstr(prng.chance(0.2) ? randomBytes(prng, prng.int(0, 12)) : Buffer.from(`k${i}`))
      .raw(fieldValue(prng, depth));
  for (const [name, value] of interesting) if (prng.chance(0.5)) entries.shortstr(Buffer.from(name)).raw(value);
  if (prng.chance(0.05))
    entries.shortstr(Buffer.from('deep')).raw(deeplyNested(prng.int(100, 5000), prng.pick(['F', 'A'])));
  return new Bytes().longstr(entries.build()).build();
}

/** A value nested `levels` deep, built inside out (no recursion). */
export function deeplyNested(levels: number, kind: 'F' | 'A'): Buffer {
  let value: Buffer = Buffer.from('V');
  for (let i = 0; i < levels; i++) {
    const inner = kind === 'F' ? Buffer.concat([Buffer.from([1, 0x61]), value]) : value;
    value = new Bytes().u8(kind.charCodeAt(0)).longstr(inner).build();
  }
  return value;
}

/** Queue arguments, valid or not, timers past 2^31 - 1 ms among them. */
function queueArguments(prng: Prng): [string, Buffer][] {
  const long = (n: number) =>
    new Bytes()
      .u8(0x6c)
      .u32(Math.floor(n / 2 ** 32))
      .u32(n % 2 ** 32)
      .build();
  const str = (s: string) => new Bytes().u8(0x53).longstr(Buffer.from(s)).build();
  const timer = () => long(prng.pick([0, 1, 50, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 315_360_000_000, 315_360_000_001]));
  return [
    ['x-expires', timer()],
    ['x-message-ttl', timer()],
    ['x-max-length', long(prng.int(0, 3))],
    ['x-overflow', str(prng.pick(['drop-head', 'reject-publish', 'reject-publish-dlx', 'bogus']))],
    ['x-dead-letter-exchange', str(prng.pick(['', 'amq.fanout', 'missing']))],
    ['x-max-priority', long(prng.int(0, 300))],
    ['x-single-active-consumer', new Bytes().u8(0x74).u8(prng.int(0, 2)).build()],
  ];
}

/** Basic properties (flags + list) of any shape; BCC and CC make the broker rewrite them. */
export function properties(prng: Prng, names: readonly string[]): Buffer {
  let flags = prng.int(0, 0xffff) & 0xfffc;
  const list = new Bytes();
  const shortstr = () => list.shortstr(text(prng, names));
  if (flags & P.FLAG_CONTENT_TYPE) shortstr();
  if (flags & P.FLAG_CONTENT_ENCODING) shortstr();
  if (flags & P.FLAG_HEADERS) {
    const keys = new Bytes()
      .u8(0x53)
      .longstr(Buffer.from(prng.pick(names)))
      .build();
    const array = new Bytes().u8(0x41).longstr(keys).build();
    list.raw(
      table(prng, 3, [
        ['BCC', array],
        ['CC', array],
        [
          'x-delay',
          new Bytes()
            .u8(0x49)
            .u32(prng.int(0, 2 ** 32 - 1))
            .build(),
        ],
      ]),
    );
  }
  if (flags & P.FLAG_DELIVERY_MODE) list.u8(prng.pick([1, 2, 0, 255]));
  if (flags & P.FLAG_PRIORITY) list.u8(prng.int(0, 255));
  if (flags & P.FLAG_CORRELATION_ID) shortstr();
  if (flags & P.FLAG_REPLY_TO) list.shortstr(Buffer.from(prng.pick(['amq.rabbitmq.reply-to', 'q', ''])));
  if (flags & P.FLAG_EXPIRATION)
    list.shortstr(Buffer.from(prng.pick(['0', '10', '2147483648', '315360000001', '-1', 'x', '9'.repeat(40)])));
  if (flags & P.FLAG_MESSAGE_ID) shortstr();
  if (flags & P.FLAG_TIMESTAMP) list.raw(prng.chance(0.5) ? Buffer.alloc(8, 0xff) : randomBytes(prng, 8));
  if (flags & P.FLAG_TYPE) shortstr();
  if (flags & P.FLAG_USER_ID) list.shortstr(Buffer.from(prng.pick(['guest', 'other'])));
  if (flags & P.FLAG_APP_ID) shortstr();
  if (flags & P.FLAG_CLUSTER_ID) shortstr();
  if (prng.chance(0.1)) flags |= 1; // a continuation word the list does not have
  return Buffer.concat([new Bytes().u16(flags).build(), list.build()]);
}

/** One method (and its content, if any) on `channel`, as frames. Arguments are built byte by byte. */
export function interaction(prng: Prng, channel: number, names: readonly string[]): Buffer[] {
  const m = (id: number, args: Bytes) => frame(P.FRAME_METHOD, channel, new Bytes().u32(id).raw(args.build()).build());
  const name = () => text(prng, names);
  const bits = () => prng.int(0, 255);
  switch (prng.int(0, 15)) {
    case 0:
      return [
        m(
          P.QUEUE_DECLARE,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .u8(bits() & 0x1f)
            .raw(table(prng, 2, queueArguments(prng))),
        ),
      ];
    case 1: {
      const type = Buffer.from(prng.pick(['direct', 'fanout', 'topic', 'headers', 'x-bogus']));
      return [
        m(
          P.EXCHANGE_DECLARE,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .shortstr(type)
            .u8(bits() & 0x1f)
            .raw(table(prng)),
        ),
      ];
    }
    case 2:
      return [
        m(
          P.QUEUE_BIND,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .shortstr(name())
            .shortstr(name())
            .u8(bits() & 1)
            .raw(table(prng)),
        ),
      ];
    case 3:
    case 4:
    case 5: {
      const body = randomBytes(prng, prng.pick([0, 1, 100, 5000]));
      const header = new Bytes().u16(60).u16(0).u32(0).u32(body.length).raw(properties(prng, names)).build();
      return [
        m(
          P.BASIC_PUBLISH,
          new Bytes()
            .u16(0)
            .shortstr(Buffer.from(prng.pick(['', 'amq.fanout', 'amq.topic', 'amq.headers'])))
            .shortstr(name())
            .u8(bits() & 3),
        ),
        frame(P.FRAME_HEADER, channel, header),
        frame(P.FRAME_BODY, channel, body),
      ];
    }
    case 6:
      return [
        m(
          P.BASIC_CONSUME,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .shortstr(text(prng, ['', 'ctag']))
            .u8(bits() & 0xf)
            .raw(table(prng)),
        ),
      ];
    case 7:
      return [
        m(
          P.BASIC_GET,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .u8(bits() & 1),
        ),
      ];
    case 8: {
      const tag = prng.int(0, 20);
      const id = prng.pick([P.BASIC_ACK, P.BASIC_REJECT, P.BASIC_NACK]);
      return [
        m(
          id,
          new Bytes()
            .u32(0)
            .u32(tag)
            .u8(bits() & 3),
        ),
      ];
    }
    case 9:
      return [
        m(
          P.BASIC_QOS,
          new Bytes()
            .u32(prng.int(0, 2 ** 32 - 1))
            .u16(prng.int(0, 0xffff))
            .u8(bits() & 1),
        ),
      ];
    case 10:
      return [
        m(
          prng.pick([P.CONFIRM_SELECT, P.TX_SELECT, P.TX_COMMIT, P.TX_ROLLBACK, P.BASIC_RECOVER]),
          new Bytes().u8(bits() & 1),
        ),
      ];
    case 11:
      return [
        m(
          prng.pick([P.QUEUE_PURGE, P.QUEUE_DELETE]),
          new Bytes()
            .u16(0)
            .shortstr(name())
            .u8(bits() & 7),
        ),
      ];
    case 12:
      return [m(P.BASIC_CANCEL, new Bytes().shortstr(text(prng, ['', 'ctag'])).u8(bits() & 1))];
    case 13:
      return [
        m(
          prng.pick([P.CHANNEL_OPEN, P.CHANNEL_CLOSE, P.CHANNEL_FLOW]),
          new Bytes().raw(randomBytes(prng, prng.int(0, 8))),
        ),
      ];
    case 14:
      return [frame(P.FRAME_HEARTBEAT, prng.chance(0.8) ? 0 : channel, Buffer.alloc(0))];
    default:
      return [
        m(
          P.EXCHANGE_DELETE,
          new Bytes()
            .u16(0)
            .shortstr(name())
            .u8(bits() & 3),
        ),
      ];
  }
}

/** A mutation of one frame's bytes, or the frame unchanged (most of the time: the broker must get far). */
export function mutate(prng: Prng, bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  switch (prng.int(0, 11)) {
    case 0: {
      const i = prng.int(0, b.length - 1);
      b[i] ^= 1 << prng.int(0, 7);
      return b;
    }
    case 1:
      b[prng.int(7, Math.max(7, b.length - 2))] = prng.pick(INTERESTING_BYTES);
      return b;
    case 2: {
      // payload cut short, size fixed up: malformed arguments
      const payload = b.subarray(7, b.length - 1);
      return frame(b[0], b.readUInt16BE(1), payload.subarray(0, prng.int(0, payload.length)));
    }
    case 3:
      // a size that lies (larger or smaller than what follows)
      b.writeUInt32BE(prng.pick([0, 1, b.length, 2 ** 17, 2 ** 31, 2 ** 32 - 1]), 3);
      return b;
    case 4:
      b.writeUInt16BE(prng.pick([0, 2, 2047, 65535]), 1);
      return b;
    case 5:
      b[0] = prng.pick([0, 1, 2, 3, 4, 8, 9, 65, 206]);
      return b;
    case 6:
      b[b.length - 1] = prng.int(0, 255);
      return b;
    default:
      return b;
  }
}
