import { MessageValidationError, type MessageContract } from '@warren/messaging';
import * as contracts from './index';
import {
  CapturePayment,
  Click,
  expiry,
  OrderPlaced,
  PageView,
  PaymentDeclined,
  ReserveStock,
  StockRejected,
} from './index';

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
    const ok = {
      orderId: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
      customerEmail: 'ada@example.com',
      items: [{ sku: 'SKU-001', quantity: 2 }],
      placedAt: new Date().toISOString(),
    };
    expect(OrderPlaced.parse(ok)).toEqual(ok);
    expect(() => OrderPlaced.parse({ ...ok, items: [{ sku: 'apple', quantity: 0 }] })).toThrow(MessageValidationError);
    expect(() => OrderPlaced.parse({ ...ok, items: [] })).toThrow(/items/);
  });

  it('keeps money in whole cents', () => {
    expect(() =>
      CapturePayment.parse({ orderId: '7d444840-9dc0-11d1-b245-5ffdce74fad2', amount: 10.5, customerEmail: 'a@b.co' }),
    ).toThrow(/amount/);
  });

  describe('deadlines on commands (issue 17: late commands)', () => {
    const orderId = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
    const deadline = '2026-12-03T03:00:00.000Z';

    it('takes an optional ISO deadline on reserve-stock and capture-payment, so a command from before deadlines still parses', () => {
      const capture = { orderId, amount: 1050, customerEmail: 'a@b.co' };
      expect(CapturePayment.parse(capture)).toEqual(capture);
      expect(CapturePayment.parse({ ...capture, deadline })).toEqual({ ...capture, deadline });
      expect(() => CapturePayment.parse({ ...capture, deadline: 1796266337870 })).toThrow(/deadline/);
      expect(() => CapturePayment.parse({ ...capture, deadline: 'soon' })).toThrow(/deadline/);
      const reserve = { orderId, items: [{ sku: 'SKU-001', quantity: 1 }] };
      expect(ReserveStock.parse({ ...reserve, deadline })).toEqual({ ...reserve, deadline });
      expect(ReserveStock.parse(reserve)).toEqual(reserve);
    });

    it('says in the refusing answer which deadline passed and when the command was taken', () => {
      const expired = { deadline, at: '2026-12-03T03:00:00.120Z' };
      expect(PaymentDeclined.parse({ orderId, reason: 'late', expired })).toEqual({ orderId, reason: 'late', expired });
      expect(PaymentDeclined.parse({ orderId, reason: 'card declined' })).toEqual({ orderId, reason: 'card declined' });
      expect(StockRejected.parse({ orderId, reason: 'late', unavailable: [], expired })).toMatchObject({ expired });
      expect(() => PaymentDeclined.parse({ orderId, reason: 'late', expired: { deadline } })).toThrow(/expired\.at/);
    });

    it('counts a command taken at its deadline or after as late, and one without a deadline never', () => {
      const at = Date.parse(deadline);
      expect(expiry(deadline, at - 1)).toBeUndefined();
      expect(expiry(deadline, at)).toEqual({ deadline, at: deadline });
      expect(expiry(deadline, at + 120)).toEqual({ deadline, at: '2026-12-03T03:00:00.120Z' });
      expect(expiry(undefined, at + 120)).toBeUndefined();
    });
  });

  it('types clickstream events by their type field', () => {
    expect(() =>
      PageView.parse({ type: 'click', visitorId: 'v', url: 'https://shop.example/', at: new Date().toISOString() }),
    ).toThrow(MessageValidationError);
  });

  describe('clickstream strings (issue 10)', () => {
    const view = {
      type: 'page_view',
      visitorId: 'visitor-1',
      url: 'https://shop.example/',
      at: new Date().toISOString(),
    };
    const reasons = (fields: Record<string, unknown>, contract: typeof PageView | typeof Click = PageView) => {
      try {
        contract.parse({ ...view, type: contract === Click ? 'click' : 'page_view', ...fields });
        return [];
      } catch (err) {
        return (err as MessageValidationError).issues;
      }
    };

    it('takes http(s) URLs and the documented id shape', () => {
      expect(
        reasons({
          url: 'http://shop.example/a?b=c#d',
          referrer: 'https://search.example/?q=lamp',
          sessionId: 's:1',
          visitorId: 'A.z_0:9-x',
        }),
      ).toEqual([]);
      expect(reasons({ referrer: '' })).toEqual([]);
      expect(reasons({ visitorId: 'v'.repeat(128), url: `https://shop.example/${'a'.repeat(2048 - 21)}` })).toEqual([]);
      expect(reasons({ title: 'Lamp – 20 % off 🎉', element: undefined })).toEqual([]);
      expect(reasons({ element: '#buy-1' }, Click)).toEqual([]);
    });

    it.each([
      'javascript:alert(1)',
      'data:text/html,<script>',
      'ftp://shop.example/',
      '/relative',
      'https://shop.example/a\nb',
      ' https://shop.example/',
      'https://shop.example/\ud800',
    ])('refuses the url %j', (url) => {
      expect(reasons({ url: url })).toEqual([
        'url: must be an http(s) URL (absolute, no whitespace or control characters)',
      ]);
      expect(reasons({ referrer: url })).toEqual([
        'referrer: must be an http(s) URL (absolute, no whitespace or control characters)',
      ]);
    });

    it('bounds the url', () => {
      expect(reasons({ url: `https://shop.example/${'a'.repeat(2048)}` })).toEqual([
        'url: must be at most 2048 characters',
      ]);
    });

    it.each(['a\u0000b', 'a\r\nb', '\ud800', 'a b', '', 'é', 'v'.repeat(129)])(
      'refuses the visitor and session id %j',
      (id) => {
        const reason = 'must be 1 to 128 characters, each a letter, a digit or one of . _ : -';
        expect(reasons({ visitorId: id })).toEqual([`visitorId: ${reason}`]);
        expect(reasons({ sessionId: id })).toEqual([`sessionId: ${reason}`]);
      },
    );

    it.each(['a\u0000b', 'a\r\nb', '\ud800', 'tab\there', 'a\u2028b', 'a\u0085b'])(
      'refuses the text %j in a title or an element',
      (text) => {
        const reason = 'must not contain control characters, line breaks or lone surrogates';
        expect(reasons({ title: text })).toEqual([`title: ${reason}`]);
        expect(reasons({ element: text }, Click)).toEqual([`element: ${reason}`]);
      },
    );

    it('bounds the text', () => {
      expect(reasons({ title: 't'.repeat(513) })).toEqual(['title: must be at most 512 characters']);
      expect(reasons({ element: 'e'.repeat(257) }, Click)).toEqual(['element: must be at most 256 characters']);
    });
  });
});
