import { MessageValidationError, type MessageContract } from '@warren/messaging';
import * as contracts from './index';
import { CapturePayment, Click, OrderPlaced, PageView } from './index';

describe('contracts', () => {
  it('names every message by docs/architecture.md (Messaging topology): <context>.<event> for events, <service>.<command> for commands', () => {
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

  describe('clickstream strings (issue 10)', () => {
    const view = { type: 'page_view', visitorId: 'visitor-1', url: 'https://shop.example/', at: new Date().toISOString() };
    const reasons = (fields: Record<string, unknown>, contract: typeof PageView | typeof Click = PageView) => {
      try {
        contract.parse({ ...view, type: contract === Click ? 'click' : 'page_view', ...fields });
        return [];
      } catch (err) {
        return (err as MessageValidationError).issues;
      }
    };

    it('takes http(s) URLs and the documented id shape', () => {
      expect(reasons({ url: 'http://shop.example/a?b=c#d', referrer: 'https://search.example/?q=lamp', sessionId: 's:1', visitorId: 'A.z_0:9-x' })).toEqual([]);
      expect(reasons({ referrer: '' })).toEqual([]);
      expect(reasons({ visitorId: 'v'.repeat(128), url: `https://shop.example/${'a'.repeat(2048 - 21)}` })).toEqual([]);
      expect(reasons({ title: 'Lamp – 20 % off 🎉', element: undefined })).toEqual([]);
      expect(reasons({ element: '#buy-1' }, Click)).toEqual([]);
    });

    it.each(['javascript:alert(1)', 'data:text/html,<script>', 'ftp://shop.example/', '/relative', 'https://shop.example/a\nb', ' https://shop.example/', 'https://shop.example/\ud800'])(
      'refuses the url %j',
      (url) => {
        expect(reasons({ url: url })).toEqual(['url: must be an http(s) URL (absolute, no whitespace or control characters)']);
        expect(reasons({ referrer: url })).toEqual(['referrer: must be an http(s) URL (absolute, no whitespace or control characters)']);
      },
    );

    it('bounds the url', () => {
      expect(reasons({ url: `https://shop.example/${'a'.repeat(2048)}` })).toEqual(['url: must be at most 2048 characters']);
    });

    it.each(['a\u0000b', 'a\r\nb', '\ud800', 'a b', '', 'é', 'v'.repeat(129)])('refuses the visitor and session id %j', (id) => {
      const reason = 'must be 1 to 128 characters, each a letter, a digit or one of . _ : -';
      expect(reasons({ visitorId: id })).toEqual([`visitorId: ${reason}`]);
      expect(reasons({ sessionId: id })).toEqual([`sessionId: ${reason}`]);
    });

    it.each(['a\u0000b', 'a\r\nb', '\ud800', 'tab\there', 'a\u2028b', 'a\u0085b'])('refuses the text %j in a title or an element', (text) => {
      const reason = 'must not contain control characters, line breaks or lone surrogates';
      expect(reasons({ title: text })).toEqual([`title: ${reason}`]);
      expect(reasons({ element: text }, Click)).toEqual([`element: ${reason}`]);
    });

    it('bounds the text', () => {
      expect(reasons({ title: 't'.repeat(513) })).toEqual(['title: must be at most 512 characters']);
      expect(reasons({ element: 'e'.repeat(257) }, Click)).toEqual(['element: must be at most 256 characters']);
    });
  });
});
