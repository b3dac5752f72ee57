import type { Queue } from '../queue/queue';
import type { Metrics } from '../metrics';

// message_stats as RabbitMQ's management API shows them: each count with a `<name>_details.rate` in messages
// per second. Counts are the broker's own (plain increments on the hot path); rates come from sampling them
// every 5 s here, as RabbitMQ's statistics interval does, so the publish/deliver path pays nothing for them.

export const SAMPLE_INTERVAL_MS = 5000;

type Counts = Record<'publish' | 'deliver_get' | 'ack' | 'redeliver', number>;

interface Sample {
  at: number;
  counts: Counts;
  rates: Counts;
}

const zero = (): Counts => ({ publish: 0, deliver_get: 0, ack: 0, redeliver: 0 });

export class RateSampler {
  private readonly queues = new WeakMap<Queue, Sample>();
  private overall: Sample | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly allQueues: () => Iterable<Queue>,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = Date.now();
    const next = (previous: Sample | undefined, counts: Counts): Sample => {
      const rates = zero();
      if (previous && now > previous.at) {
        for (const key of Object.keys(counts) as (keyof Counts)[])
          rates[key] = ((counts[key] - previous.counts[key]) * 1000) / (now - previous.at);
      }
      return { at: now, counts, rates };
    };
    for (const queue of this.allQueues()) this.queues.set(queue, next(this.queues.get(queue), queueCounts(queue)));
    const m = this.metrics;
    this.overall = next(this.overall, {
      publish: m.received,
      deliver_get: m.delivered,
      ack: m.acknowledged,
      redeliver: m.redelivered,
    });
  }

  /** A queue's message_stats, or undefined before anything happened to it (RabbitMQ leaves the field out then). */
  queueStats(queue: Queue): Record<string, unknown> | undefined {
    const counts = queueCounts(queue);
    if (Object.values(counts).every((n) => n === 0)) return undefined;
    return render(counts, this.queues.get(queue)?.rates ?? zero());
  }

  overallStats(): Record<string, unknown> {
    const m = this.metrics;
    return render(
      { publish: m.received, deliver_get: m.delivered, ack: m.acknowledged, redeliver: m.redelivered },
      this.overall?.rates ?? zero(),
    );
  }
}

function queueCounts(queue: Queue): Counts {
  const s = queue.stats;
  return { publish: s.publish, deliver_get: s.deliverGet, ack: s.ack, redeliver: s.redeliver };
}

function render(counts: Counts, rates: Counts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(counts) as (keyof Counts)[]) {
    out[key] = counts[key];
    out[`${key}_details`] = { rate: Math.round(rates[key] * 10) / 10 };
  }
  return out;
}
