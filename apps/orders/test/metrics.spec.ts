// GET /metrics of the orders app created in-process (no test provider: service-kit's own meter provider and
// Prometheus exporter), read as Prometheus reads it: the saga's outcomes and step durations under their names.
import { parsePrometheusText, type PrometheusFamily } from '../../../tools/testing/prometheus';
import { eventually, OrdersUnderTest, testMatrix } from './support';

const [{ broker, db }] = testMatrix(); // the names, not the brokers, are under test: one target is enough

describe('orders GET /metrics', () => {
  const t = new OrdersUnderTest(broker, db, { stepTimeoutMs: 60_000, sweepIntervalMs: 600_000 });
  beforeAll(() => t.start());
  afterAll(() => t.stop());

  const scrape = async (): Promise<Map<string, PrometheusFamily>> => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const value = (families: Map<string, PrometheusFamily>, sample: string, labels: Record<string, string>) =>
    [...families.values()]
      .flatMap((f) => f.samples)
      .find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  it('exposes the saga outcomes by outcome and reason, and the step durations by step, in seconds', async () => {
    const confirmed = await t.place('ada@example.com', [{ sku: 'SKU-001', quantity: 1 }]);
    const cancelled = await t.place('bob@example.com', [{ sku: 'SKU-003', quantity: 5 }]);
    await t.settled(confirmed, 'CONFIRMED');
    await t.settled(cancelled, 'CANCELLED');
    const families = await eventually('the outcomes', async () => {
      const f = await scrape();
      return value(f, 'warren_saga_outcomes_total', { warren_saga_outcome: 'cancelled' }) === 1 ? f : undefined;
    });
    expect(families.get('warren_saga_outcomes_total')).toMatchObject({ type: 'counter' });
    expect(families.get('warren_saga_outcomes_total')!.samples.map((s) => [s.labels, s.value])).toEqual(
      expect.arrayContaining([
        [{ warren_saga_outcome: 'confirmed' }, 1],
        [{ warren_saga_outcome: 'cancelled', warren_saga_reason: 'out-of-stock' }, 1],
      ]),
    );
    expect(families.get('warren_saga_step_duration_seconds')).toMatchObject({ type: 'histogram' });
    for (const step of ['STOCK_RESERVED', 'CONFIRMED', 'CANCELLED'])
      expect([step, value(families, 'warren_saga_step_duration_seconds_count', { warren_saga_step: step })]).toEqual([
        step,
        1,
      ]);
  });
});
