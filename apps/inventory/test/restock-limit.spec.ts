// POST /admin/stock/:sku/restock stops at the most the stock columns hold (found by the HTTP fuzzing work,
// e2e/http-fuzz.spec.ts): on Postgres, whose columns are 32-bit integers, the third restock of 10⁹ units was
// refused by the database ("integer out of range") and answered 500. It is a 409 on every database now.
import { startService, type StartedService } from '@warren/service-kit';
import { AppModule, INVENTORY } from '../src/app.module';
import { MAX_STOCK } from '../src/stock/stock.service';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';

const ADMIN_TOKEN = 'inventory-restock-limit-token';

describe.each(testTargets().filter((t) => t.name.startsWith('bundled')))('restock limit ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let service: StartedService;

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'inventory');
    process.env.ADMIN_TOKEN = ADMIN_TOKEN;
    service = await startService(AppModule, { ...INVENTORY, logger: false });
  });

  afterAll(async () => {
    await service?.close();
    delete process.env.ADMIN_TOKEN;
    await env?.restore();
  });

  const restock = (sku: string, quantity: number) =>
    fetch(`${service.url}/admin/stock/${sku}/restock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ quantity }),
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { available?: number; message?: string },
    }));

  it('answers 409 instead of passing 2^31 - 1 units, keeps the stock as it was, and takes a restock up to the limit', async () => {
    const first = await restock('SKU-012', 1_000_000_000);
    expect(first.status).toBe(200);
    const start = first.body.available! - 1_000_000_000;
    expect((await restock('SKU-012', 1_000_000_000)).body.available).toBe(start + 2_000_000_000);
    const refused = await restock('SKU-012', 1_000_000_000);
    expect(refused).toEqual({
      status: 409,
      body: expect.objectContaining({
        message: `restocking 1000000000 units of SKU-012 would make ${start + 3_000_000_000} available, past ${MAX_STOCK}, the most the stock holds`,
      }),
    });
    const upToTheLimit = MAX_STOCK - (start + 2_000_000_000);
    expect(await restock('SKU-012', upToTheLimit)).toEqual({
      status: 200,
      body: expect.objectContaining({ available: MAX_STOCK }),
    });
    expect((await restock('SKU-012', 1)).status).toBe(409);
    // concurrent restocks that together pass the limit: one is taken, the others are 409s, none a 500
    const racing = await Promise.all(Array.from({ length: 4 }, () => restock('SKU-011', 700_000_000)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 200, 200, 409]);
  });
});
