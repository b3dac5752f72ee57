import { MessageValidationError, type MessageContract } from '@warren/messaging';
import * as contracts from './index';
import { CapturePayment, OrderPlaced, PageView } from './index';

describe('contracts', () => {
  it('names every message by DESIGN.md: <context>.<event> for events, <service>.<command> for commands', () => {
    const types = (Object.values(contracts) as unknown[])
      .filter((v): v is MessageContract => typeof v === 'object' && v !== null && 'schema' in v && 'parse' in v)
      .map((c) => c.type);
    expect(types.length).toBeGreaterThanOrEqual(14);
    for (const t of types) expect(t).toMatch(/^[a-z]+\.[a-z_-]+$/);
    expect(new Set(types).size).toBe(types.length);
  });

  it('accepts a well-formed order and explains a bad one', () => {
    const ok = { orderId: '7d444840-9dc0-11d1-b245-5ffdce74fad2', customerEmail: 'ada@example.com', items: [{ sku: 'SKU-001', quantity: 2 }], placedAt: new Date().toISOString() };
    expect(OrderPlaced.parse(ok)).toEqual(ok);
    expect(() => OrderPlaced.parse({ ...ok, items: [{ sku: 'apple', quantity: 0 }] })).toThrow(MessageValidationError);
    expect(() => OrderPlaced.parse({ ...ok, items: [] })).toThrow(/items/);
  });

  it('keeps money in whole cents', () => {
    expect(() => CapturePayment.parse({ orderId: '7d444840-9dc0-11d1-b245-5ffdce74fad2', amount: 10.5, customerEmail: 'a@b.co' })).toThrow(/amount/);
  });

  it('types clickstream events by their type field', () => {
    expect(() => PageView.parse({ type: 'click', visitorId: 'v', url: 'https://shop.example/', at: new Date().toISOString() })).toThrow(MessageValidationError);
  });
});
