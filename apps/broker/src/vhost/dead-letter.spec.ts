import { encodeBasicProperties, tableFromPlain, tableToPlain } from '@warren/amqp-protocol';
import { Message } from '../message';
import { deadLetterMessage, deadLetterProperties, isDeadLetterCycle } from './dead-letter';

describe('deadLetterProperties', () => {
  const now = 1_700_000_000_000;

  it('writes x-death and x-first-death-* on the first death and drops expiration', () => {
    const props = deadLetterProperties(
      { expiration: '500', headers: new Map([['app', { type: 'S', value: 'x' }]]) },
      'q1',
      'expired',
      'ex',
      ['rk'],
      now,
    );
    expect(props.expiration).toBeUndefined();
    const headers = tableToPlain(props.headers!);
    expect(headers).toEqual({
      app: 'x',
      'x-first-death-exchange': 'ex',
      'x-first-death-queue': 'q1',
      'x-first-death-reason': 'expired',
      'x-death': [
        {
          count: 1,
          reason: 'expired',
          queue: 'q1',
          time: now / 1000,
          exchange: 'ex',
          'routing-keys': ['rk'],
          'original-expiration': '500',
        },
      ],
    });
    const death = props.headers!.get('x-death')!;
    expect(death.type).toBe('A');
    const entry = (death.value as { type: string; value: Map<string, { type: string }> }[])[0].value;
    expect(entry.get('count')!.type).toBe('l');
    expect(entry.get('time')!.type).toBe('T');
  });

  it('increments the count of the same queue and reason and moves it to the front', () => {
    let props = deadLetterProperties({}, 'q1', 'rejected', 'ex', ['a'], now);
    props = deadLetterProperties(props, 'q2', 'expired', 'dlx', ['a'], now);
    props = deadLetterProperties(props, 'q1', 'rejected', 'ex', ['a'], now + 5000);
    const deaths = tableToPlain(props.headers!)['x-death'] as Record<string, unknown>[];
    expect(deaths.map((d) => [d.queue, d.reason, d.count])).toEqual([
      ['q1', 'rejected', 2],
      ['q2', 'expired', 1],
    ]);
    expect(deaths[0].time).toBe(now / 1000); // the first time is kept
    expect(tableToPlain(props.headers!)['x-first-death-queue']).toBe('q1');
  });

  it('detects cycles unless a rejection broke them', () => {
    const expiredTwice = deadLetterProperties(
      deadLetterProperties({}, 'a', 'expired', '', ['a'], now),
      'b',
      'expired',
      'x',
      ['a'],
      now,
    );
    expect(isDeadLetterCycle(expiredTwice, 'a')).toBe(true);
    expect(isDeadLetterCycle(expiredTwice, 'c')).toBe(false);
    const withReject = deadLetterProperties(expiredTwice, 'c', 'rejected', 'x', ['a'], now);
    expect(isDeadLetterCycle(withReject, 'a')).toBe(false);
  });
});

describe('deadLetterMessage (CC / BCC)', () => {
  const now = 1_700_000_000_000;
  /** A message published to `ex` with routing key `rk` and these headers, BCC taken out as the channel does. */
  function published(headers: Record<string, unknown>): Message {
    const { BCC, ...kept } = headers;
    const m = new Message('ex', 'rk', encodeBasicProperties({ headers: tableFromPlain(kept) }), Buffer.from('m'));
    if (BCC !== undefined) m.bcc = BCC as string[];
    return m;
  }
  const deathKeys = (m: Message) =>
    (tableToPlain(m.properties.headers!)['x-death'] as Record<string, unknown>[])[0]['routing-keys'];

  it('without a dead-letter routing key: routes by the routing key, CC and BCC keys; CC stays; x-death has no BCC keys', () => {
    const { dead, extraKeys } = deadLetterMessage(
      published({ CC: ['c1', 'c2'], BCC: ['b1'] }),
      'q',
      'rejected',
      'dlx',
      undefined,
      now,
    );
    expect([dead.exchange, dead.routingKey]).toEqual(['dlx', 'rk']);
    expect(extraKeys).toEqual(['c1', 'c2', 'b1']);
    expect(dead.bcc).toEqual(['b1']);
    expect(tableToPlain(dead.properties.headers!).CC).toEqual(['c1', 'c2']);
    expect(dead.properties.headers!.has('BCC')).toBe(false);
    expect(deathKeys(dead)).toEqual(['rk', 'c1', 'c2']);
    // a further death (no routing key again) still routes by the BCC keys, and x-death still lists no BCC key
    const again = deadLetterMessage(dead, 'q2', 'expired', 'dlx2', undefined, now);
    expect(again.extraKeys).toEqual(['c1', 'c2', 'b1']);
    expect(deathKeys(again.dead)).toEqual(['rk', 'c1', 'c2']);
  });

  it('with a dead-letter routing key: that key alone, CC removed (even an empty one), x-death keeps the CC keys', () => {
    for (const cc of [['c1'], []]) {
      const { dead, extraKeys } = deadLetterMessage(
        published({ CC: cc, BCC: ['b1'], app: 'x' }),
        'q',
        'maxlen',
        'dlx',
        'dlrk',
        now,
      );
      expect([dead.exchange, dead.routingKey, extraKeys, dead.bcc]).toEqual(['dlx', 'dlrk', undefined, undefined]);
      const headers = tableToPlain(dead.properties.headers!);
      expect(headers.CC).toBeUndefined();
      expect(headers.app).toBe('x');
      expect(deathKeys(dead)).toEqual(['rk', ...cc]);
      // the next death is routed and recorded by the dead-letter routing key alone
      const again = deadLetterMessage(dead, 'q2', 'rejected', 'dlx2', undefined, now);
      expect(again.extraKeys).toBeUndefined();
      expect(deathKeys(again.dead)).toEqual(['dlrk']);
    }
  });

  it('no CC or BCC: no extra keys', () => {
    const { extraKeys, dead } = deadLetterMessage(
      new Message('ex', 'rk', Buffer.from([0, 0]), Buffer.alloc(0)),
      'q',
      'expired',
      'dlx',
      undefined,
      now,
    );
    expect(extraKeys).toBeUndefined();
    expect(deathKeys(dead)).toEqual(['rk']);
  });
});
