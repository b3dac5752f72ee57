import { tableToPlain } from '@warren/amqp-protocol';
import { deadLetterProperties, isDeadLetterCycle } from './dead-letter';

describe('deadLetterProperties', () => {
  const now = 1_700_000_000_000;

  it('writes x-death and x-first-death-* on the first death and drops expiration', () => {
    const props = deadLetterProperties({ expiration: '500', headers: new Map([['app', { type: 'S', value: 'x' }]]) }, 'q1', 'expired', 'ex', ['rk'], now);
    expect(props.expiration).toBeUndefined();
    const headers = tableToPlain(props.headers!);
    expect(headers).toEqual({
      app: 'x',
      'x-first-death-exchange': 'ex',
      'x-first-death-queue': 'q1',
      'x-first-death-reason': 'expired',
      'x-death': [
        { count: 1, reason: 'expired', queue: 'q1', time: now / 1000, exchange: 'ex', 'routing-keys': ['rk'], 'original-expiration': '500' },
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
    const expiredTwice = deadLetterProperties(deadLetterProperties({}, 'a', 'expired', '', ['a'], now), 'b', 'expired', 'x', ['a'], now);
    expect(isDeadLetterCycle(expiredTwice, 'a')).toBe(true);
    expect(isDeadLetterCycle(expiredTwice, 'c')).toBe(false);
    const withReject = deadLetterProperties(expiredTwice, 'c', 'rejected', 'x', ['a'], now);
    expect(isDeadLetterCycle(withReject, 'a')).toBe(false);
  });
});
