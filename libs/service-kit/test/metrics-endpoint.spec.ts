// GET /metrics of an app created in-process, as the services' tests create theirs (no instrument.ts: the kit
// installs the MeterProvider when the app is created), with and without a database. The text must be what
// Prometheus accepts (tools/testing/prometheus.ts refuses what it would refuse, naming the line), every family
// typed and described, and http_server_request_duration_seconds must count exactly the requests the test made, by
// method, route pattern and status, errors included, /health and /metrics left out.
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePrometheusText, type PrometheusFamily } from '../../../tools/testing/prometheus';
import { AdminGuard, PROMETHEUS_CONTENT_TYPE, ServiceModule, startService, type StartedService } from '../src';

@Controller('things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string): { id: string } {
    if (id === 'missing') throw new NotFoundException(`no thing ${id}`);
    return { id };
  }

  @Post()
  create(@Body() body: { name?: unknown }): { name: string } {
    if (typeof body?.name !== 'string') throw new BadRequestException('name is required');
    return { name: body.name };
  }

  @Get(':id/boom')
  boom(): never {
    throw new Error('the handler failed');
  }

  @Get(':id/secret')
  @UseGuards(AdminGuard)
  secret(): string {
    return 'secret';
  }
}

@Module({
  imports: [ServiceModule.forRoot({ name: 'kit-metrics-db', defaultPort: 0, queue: 'kit-metrics-db.events' })],
  controllers: [ThingsController],
})
class WithDatabase {}

@Module({
  imports: [
    ServiceModule.forRoot({
      name: 'kit-metrics-nodb',
      defaultPort: 0,
      queue: 'kit-metrics-nodb.events',
      database: false,
    }),
  ],
  controllers: [ThingsController],
})
class WithoutDatabase {}

const HTTP = 'http_server_request_duration_seconds';

async function scrape(svc: StartedService): Promise<Map<string, PrometheusFamily>> {
  const res = await fetch(`${svc.url}/metrics`);
  expect([res.status, res.headers.get('content-type')]).toEqual([200, PROMETHEUS_CONTENT_TYPE]);
  return parsePrometheusText(await res.text());
}

/** The count of the HTTP histogram per "METHOD route status" (route '-' when none matched). */
function requestCounts(families: Map<string, PrometheusFamily>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of families.get(HTTP)?.samples ?? []) {
    if (s.name !== `${HTTP}_count`) continue;
    out[`${s.labels.http_request_method} ${s.labels.http_route ?? '-'} ${s.labels.http_response_status_code}`] =
      s.value;
  }
  return out;
}

const minus = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after).flatMap(([k, v]) => (v - (before[k] ?? 0) === 0 ? [] : [[k, v - (before[k] ?? 0)]])),
  );

describe('GET /metrics', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-kit-metrics-'));
  const saved = { ...process.env };
  const started: StartedService[] = [];

  beforeAll(() => {
    process.env.AMQP_URL = process.env.WARREN_TEST_BROKER_URL;
    process.env.WARREN_DATA_DIR = dataDir;
    process.env.WARREN_NAMESPACE = `test.kit.${randomBytes(4).toString('hex')}`;
    process.env.PORT = '0';
    process.env.ADMIN_TOKEN = 'secret'; // admin routes on: /metrics must not be one of them
    process.env.LOG_LEVEL = 'silent'; // the request log of a hundred requests says nothing here
    delete process.env.DATABASE_URL;
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe.each([
    ['with a database', WithDatabase, 'kit-metrics-db'],
    ['without a database', WithoutDatabase, 'kit-metrics-nodb'],
  ])('%s', (_name, module, name) => {
    let svc: StartedService;
    beforeAll(async () => {
      svc = await startService(module, { name, defaultPort: 0, logger: false });
      started.push(svc);
    });

    it('serves Prometheus text that Prometheus accepts, every family typed and described, runtime and memory among them', async () => {
      const res = await fetch(`${svc.url}/metrics`);
      const text = await res.text();
      const families = parsePrometheusText(text);
      for (const f of families.values()) {
        expect([f.name, f.type === 'untyped', f.help === '']).toEqual([f.name, false, false]);
        // HELP and TYPE before the family's first sample, as promtool requires
        const first = text.indexOf(`\n${f.samples[0]?.name ?? f.name}`);
        if (f.samples.length > 0)
          expect([
            f.name,
            text.indexOf(`# TYPE ${f.name} `) < first,
            text.indexOf(`# HELP ${f.name} `) < first,
          ]).toEqual([f.name, true, true]);
      }
      expect(text).not.toContain('# UNIT'); // OpenMetrics only: the unit is in the name
      for (const family of [
        'process_memory_usage_bytes',
        'nodejs_eventloop_delay_p99_seconds',
        'nodejs_eventloop_utilization_ratio',
        'nodejs_eventloop_time_seconds_total',
        'v8js_memory_heap_used_bytes',
        'target_info',
      ]) {
        expect([family, families.has(family)]).toEqual([family, true]);
      }
      expect(families.get('process_memory_usage_bytes')).toMatchObject({ type: 'gauge' });
      expect(families.get('process_memory_usage_bytes')!.samples[0].value).toBeGreaterThan(10_000_000);
      expect(families.get('target_info')!.samples[0].labels).toMatchObject({
        service_name: expect.any(String),
        service_instance_id: expect.stringMatching(/-\d+$/),
      });
    });

    it('counts every request by method, route pattern and status, errors included, the quiet paths left out', async () => {
      const before = requestCounts(await scrape(svc));
      const get = (p: string) => fetch(`${svc.url}${p}`);
      const post = (p: string, body: string) =>
        fetch(`${svc.url}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      const statuses = [
        ...(await Promise.all([get('/things/1'), get('/things/2'), get('/things/3?x=1')])).map((r) => r.status),
        (await get('/things/missing')).status,
        (await post('/things', JSON.stringify({ name: 'a' }))).status,
        (await post('/things', '{}')).status,
        (await get('/things/9/boom')).status,
        (await get('/things/9/secret')).status,
        (await get('/nowhere/at/all')).status,
        (await fetch(`${svc.url}/things/1`, { method: 'PURGE' })).status,
        (await get('/health')).status,
        (await get('/health?probe=1')).status,
      ];
      expect(statuses).toEqual([200, 200, 200, 404, 201, 400, 500, 401, 404, 404, 200, 200]);
      const families = await scrape(svc);
      expect(minus(requestCounts(families), before)).toEqual({
        'GET /things/:id 200': 3,
        'GET /things/:id 404': 1,
        'POST /things 201': 1,
        'POST /things 400': 1,
        'GET /things/:id/boom 500': 1,
        // refused by a guard before the handler: still its route
        'GET /things/:id/secret 401': 1,
        // no route matched: no http.route, never the URL
        'GET - 404': 1,
        // a method outside the known set is one series, whatever it is
        '_OTHER - 404': 1,
      });
      // a histogram Prometheus can take quantiles of: cumulative buckets, +Inf equal to the count, seconds
      const samples = families
        .get(HTTP)!
        .samples.filter((s) => s.labels.http_route === '/things/:id' && s.labels.http_response_status_code === '200');
      const buckets = samples.filter((s) => s.name === `${HTTP}_bucket`);
      expect(buckets.map((b) => b.labels.le)).toEqual([
        '0.005',
        '0.01',
        '0.025',
        '0.05',
        '0.075',
        '0.1',
        '0.25',
        '0.5',
        '0.75',
        '1',
        '2.5',
        '5',
        '7.5',
        '10',
        '+Inf',
      ]);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      const count = samples.find((s) => s.name === `${HTTP}_count`)!.value;
      expect(buckets.at(-1)!.value).toBe(count);
      const sum = samples.find((s) => s.name === `${HTTP}_sum`)!.value;
      expect(sum).toBeGreaterThan(0);
      expect(sum / count).toBeLessThan(5); // seconds, not milliseconds
    });

    it('answers without the admin token that admin routes need', async () => {
      const res = await fetch(`${svc.url}/metrics`, { headers: { Authorization: 'Bearer wrong' } });
      expect(res.status).toBe(200);
    });
  });
});
