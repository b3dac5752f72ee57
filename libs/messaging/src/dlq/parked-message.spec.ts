import type { Message } from 'amqplib';
import { formatTable } from './dlq-format';
import { deathRecords, toParkedMessage } from './parked-message';

const message = (headers: Record<string, unknown>): Message =>
  ({
    content: Buffer.from('{}'),
    fields: {},
    properties: { messageId: 'm-1', type: 't.x', contentType: 'application/json', headers },
  }) as unknown as Message;

describe('parked messages the broker dead-lettered', () => {
  const xDeath = [
    {
      count: 1,
      reason: 'delivery_limit',
      queue: 'svc.work',
      time: { '!': 'timestamp', value: 1_750_000_000 },
      exchange: '',
      'routing-keys': ['svc.work'],
    },
  ];

  it('take reason, queue and time from x-death, and show its count', () => {
    const parked = toParkedMessage(message({ 'x-death': xDeath, 'x-first-death-reason': 'delivery_limit' }));
    expect(parked).toMatchObject({
      reason: 'delivery_limit',
      originalQueue: 'svc.work',
      originalExchange: '',
      originalRoutingKey: 'svc.work',
      deadLetteredAt: '2025-06-15T15:06:40.000Z',
      deliveries: undefined,
    });
    expect(parked.deaths).toEqual([
      {
        queue: 'svc.work',
        reason: 'delivery_limit',
        count: 1,
        exchange: '',
        routingKeys: ['svc.work'],
        time: '2025-06-15T15:06:40.000Z',
      },
    ]);
    expect(formatTable([parked]).split('\n')[1]).toMatch(
      /^m-1\s+t\.x\s+delivery_limit\s+-\s+x-death ×1\s+2025-06-15 15:06:40Z\s+dead-lettered by the broker from 'svc\.work' \(delivery_limit\)$/,
    );
  });

  it("keep the consumer's own reason when it wrote one, and read a malformed x-death as none", () => {
    expect(toParkedMessage(message({ 'x-failure-reason': 'non-retryable', 'x-death': xDeath })).reason).toBe(
      'non-retryable',
    );
    expect(deathRecords('nonsense')).toEqual([]);
    expect(deathRecords([null, 7, { reason: 'expired', time: 5 }])).toEqual([
      {
        queue: undefined,
        reason: 'expired',
        count: undefined,
        exchange: undefined,
        routingKeys: [],
        time: '1970-01-01T00:00:05.000Z',
      },
    ]);
  });
});
