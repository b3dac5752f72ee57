import { Metrics } from '../metrics';
import type { Queue } from '../queue/queue';
import { RateSampler, SAMPLE_INTERVAL_MS } from './rates';

describe('RateSampler', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('turns counts into messages per second over each 5 s sample', () => {
    const queue = { stats: { publish: 0, deliverGet: 0, ack: 0, redeliver: 0 } } as unknown as Queue;
    const metrics = new Metrics();
    const sampler = new RateSampler(metrics, () => [queue]);
    expect(sampler.queueStats(queue)).toBeUndefined(); // nothing happened yet: no message_stats
    sampler.start();
    queue.stats.publish += 50;
    queue.stats.ack += 10;
    metrics.received += 50;
    jest.advanceTimersByTime(SAMPLE_INTERVAL_MS);
    expect(sampler.queueStats(queue)).toMatchObject({
      publish: 50,
      publish_details: { rate: 10 },
      ack: 10,
      ack_details: { rate: 2 },
      deliver_get_details: { rate: 0 },
    });
    expect(sampler.overallStats()).toMatchObject({ publish: 50, publish_details: { rate: 10 } });
    jest.advanceTimersByTime(SAMPLE_INTERVAL_MS); // nothing more happened: the rates fall to 0, the counts stay
    expect(sampler.queueStats(queue)).toMatchObject({ publish: 50, publish_details: { rate: 0 } });
    sampler.stop();
  });
});
