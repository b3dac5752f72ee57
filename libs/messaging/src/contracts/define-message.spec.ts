import { z } from 'zod';
import { MessageValidationError, NonRetryableError } from '../errors';
import { defineMessage } from './define-message';

describe('defineMessage', () => {
  const OrderPlaced = defineMessage(
    'order.placed',
    z.object({
      orderId: z.string().uuid(),
      items: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })).min(1),
      note: z.string().default(''),
    }),
  );

  it('returns the parsed payload, defaults applied', () => {
    const orderId = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
    expect(OrderPlaced.parse({ orderId, items: [{ sku: 'A', quantity: 1 }] })).toEqual({
      orderId,
      items: [{ sku: 'A', quantity: 1 }],
      note: '',
    });
  });

  it('lists every problem with its path, as a non-retryable error', () => {
    let err: unknown;
    try {
      OrderPlaced.parse({ orderId: 'nope', items: [{ sku: 'A', quantity: 0 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MessageValidationError);
    expect(err).toBeInstanceOf(NonRetryableError);
    expect((err as MessageValidationError).issues).toEqual([
      expect.stringMatching(/^orderId: /),
      expect.stringMatching(/^items\.0\.quantity: /),
    ]);
    expect((err as Error).message).toMatch(/^invalid order\.placed: orderId: .*; items\.0\.quantity: /);
    expect(() => OrderPlaced.parse('a string')).toThrow(/invalid order\.placed: \(root\): /);
  });
});
