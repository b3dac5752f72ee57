// Routing (topic exchange): analytics' collector publishes clicks as `clickstream.click` and page views as
// `clickstream.page_view`; a queue bound to one routing key receives only that kind, a wildcard binding both.
import { subscribe, type Subscriber } from './support/observe';
import { brokers, eventually, http, Stack } from './support/stack';

describe.each(brokers())('topic routing by routing key ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: ['analytics'] });
  let clicks: Subscriber;
  let everything: Subscriber;

  beforeAll(async () => {
    await stack.start();
    clicks = await subscribe(stack, 'clicks', ['clickstream.click']);
    everything = await subscribe(stack, 'clickstream', ['clickstream.*']);
  }, 120_000);
  afterAll(async () => {
    await clicks?.close();
    await everything?.close();
    await stack.teardown(['e2e.clicks', 'e2e.clickstream']);
  });

  it('sends clicks to the clicks-only queue and both kinds to the wildcard queue', async () => {
    const visitorId = `v-${stack.namespace}`;
    const events = [
      { type: 'page_view', visitorId, url: 'https://shop.example/' },
      { type: 'click', visitorId, url: 'https://shop.example/', element: '#buy-1' },
      { type: 'page_view', visitorId, url: 'https://shop.example/cart' },
      { type: 'click', visitorId, url: 'https://shop.example/cart', element: '#checkout' },
      { type: 'page_view', visitorId, url: 'https://shop.example/thanks' },
    ];
    const res = await http('POST', `${stack.url('analytics')}/collect`, { events });
    expect(res).toMatchObject({ status: 202, body: { accepted: 5, rejected: [] } });

    await eventually('all five at the wildcard queue', () => (everything.received.length >= 5 ? true : undefined));
    await eventually('both clicks at the clicks queue', () => (clicks.received.length >= 2 ? true : undefined));
    expect(clicks.received.map((m) => [m.routingKey, m.payload.element])).toEqual([
      ['clickstream.click', '#buy-1'],
      ['clickstream.click', '#checkout'],
    ]);
    expect(everything.received.map((m) => m.routingKey).sort()).toEqual([
      'clickstream.click',
      'clickstream.click',
      'clickstream.page_view',
      'clickstream.page_view',
      'clickstream.page_view',
    ]);
    // and no page view ever reached the clicks queue (the wildcard queue saw all five, so they were routed by now)
    expect(clicks.received).toHaveLength(2);
  });
});
