// Clickstream ingestion and real-time aggregation: a seeded stream POSTed to /collect becomes the counters,
// unique visitors and top pages GET /stats reports, and /stats/stream pushes an update when more arrives.
import { brokers, eventually, http, Stack } from './support/stack';

describe.each(brokers())('clickstream analytics ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: ['analytics'] });
  beforeAll(() => stack.start(), 120_000);
  afterAll(() => stack.teardown());

  const page = (p: string) => `https://shop.example${p}`;
  /** A seeded stream: 4 visitors, 10 page views (/ 4, /beans 3, /kettle 2, /cart 1) and 5 clicks. */
  const seeded = () => {
    const views: Array<[string, string]> = [
      ['v1', '/'],
      ['v2', '/'],
      ['v3', '/'],
      ['v4', '/'],
      ['v1', '/beans'],
      ['v2', '/beans'],
      ['v3', '/beans'],
      ['v1', '/kettle'],
      ['v4', '/kettle'],
      ['v2', '/cart'],
    ];
    return [
      ...views.map(([visitorId, p]) => ({ type: 'page_view', visitorId, url: page(p) })),
      ...['v1', 'v1', 'v2', 'v3', 'v4'].map((visitorId, i) => ({
        type: 'click',
        visitorId,
        url: page('/beans'),
        element: `#b${i}`,
      })),
      { type: 'click', visitorId: '', url: 'not a url' }, // rejected with its reason; the rest still goes
    ];
  };
  const stats = async (): Promise<any> => (await http('GET', `${stack.url('analytics')}/stats?minutes=60`)).body;

  it('aggregates the stream: counters, unique visitors, top pages', async () => {
    const res = await http('POST', `${stack.url('analytics')}/collect`, { events: seeded() });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(15);
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 15 })]);

    const s = await eventually('the stats to count all 15 events', async () => {
      const now = await stats();
      return now.counters.pageViews === 10 && now.counters.clicks === 5 ? now : undefined;
    });
    expect(s.uniqueVisitors).toEqual({ today: 4, allTime: 4 });
    expect(s.topPages).toEqual([
      { url: page('/'), views: 4 },
      { url: page('/beans'), views: 3 },
      { url: page('/kettle'), views: 2 },
      { url: page('/cart'), views: 1 },
    ]);
  });

  it('pushes an update on /stats/stream when new events arrive', async () => {
    const abort = new AbortController();
    try {
      const res = await fetch(`${stack.url('analytics')}/stats/stream`, {
        signal: abort.signal,
        headers: { accept: 'text/event-stream' },
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      /** The next `event: stats` frame's data. */
      const nextStats = async (): Promise<any> => {
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trim())
              .join('\n');
            if (/^event: ?stats$/m.test(frame) && data) return JSON.parse(data);
            continue;
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('the stream ended');
          buffer += decoder.decode(value, { stream: true });
        }
      };
      const first = await nextStats();
      const before = first.counters.pageViews as number;
      expect(
        (
          await http('POST', `${stack.url('analytics')}/collect`, {
            events: [{ type: 'page_view', visitorId: 'v5', url: page('/new') }],
          })
        ).status,
      ).toBe(202);
      let update = await nextStats();
      while (update.counters.pageViews === before) update = await nextStats();
      expect(update.counters.pageViews).toBe(before + 1);
      expect(update.topPages).toEqual(expect.arrayContaining([{ url: page('/new'), views: 1 }]));
    } finally {
      abort.abort();
    }
  });
});
