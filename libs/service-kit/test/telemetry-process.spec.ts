// Telemetry in a service process started as main.ts starts one (instrument.ts first, then Nest), bundled as the
// services are: with OTLP/JSON to an in-memory receiver, an HTTP request yields the HTTP server span with the
// Express and Nest spans under it (the instrumentations were in place before those packages loaded), the line the
// handler logs carries that trace's id, the quiet paths record nothing, and the spans still in the batch reach
// the receiver when SIGTERM ends the process (and a collector gone by then costs a warning, not the shutdown).
// Without OTEL_* no span is exported; a malformed OTEL_* value stops
// the start with a JSON line naming it.
import { OtlpReceiver, SpanKind } from '../../../tools/testing/otlp-receiver';
import { freePort } from '../../../tools/testing/ports';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { FLUSH_TIMEOUT_MS } from '../src/http-metrics';
import { bundleFixture, lineMatching, type BundledFixture, type Run } from './support/service-process';

let fixture: BundledFixture;
let receiver: OtlpReceiver;
beforeAll(async () => {
  fixture = await bundleFixture('libs/service-kit/test/fixtures/telemetry-service.ts');
  receiver = await OtlpReceiver.start();
}, 30_000);
// a process a failed test left running
const runs: Run[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
});
afterAll(async () => {
  fixture?.remove();
  await receiver?.close();
});

interface LogLine {
  level: number;
  msg: string;
  context?: string;
  req?: { url: string };
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
}
const parsed = (lines: string[]): LogLine[] => lines.map((l) => JSON.parse(l) as LogLine);

async function started(env: Record<string, string>) {
  const r = fixture.run({ LOG_FORMAT: 'json', ...env });
  runs.push(r);
  const line = await lineMatching(r, /kit-telemetry listening on/);
  const url = /listening on (http:\/\/[^\s"]+)/.exec(line)![1];
  return { r, url };
}

describe('telemetry in a service process', () => {
  it('traces a request through http and nest (Express only names the server span), puts its trace id on the handler’s log line, and flushes on SIGTERM', async () => {
    // a batch delay far past the test: the spans can only arrive through the flush at shutdown
    const { r, url } = await started({ ...receiver.env, OTEL_BSP_SCHEDULE_DELAY: '600000' });
    expect((await fetch(`${url}/things/42`)).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect(receiver.spans()).toEqual([]);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);

    const spans = receiver.spans().filter((s) => s.service === 'kit-telemetry');
    const server = spans.filter((s) => s.kind === SpanKind.server);
    // one server span: /health and /metrics are not traced
    expect(
      server.map((s) => [
        s.name,
        s.scope,
        s.attributes['http.route'],
        s.attributes['http.response.status_code'] ?? s.attributes['http.status_code'],
      ]),
    ).toEqual([['GET /things/:id', '@opentelemetry/instrumentation-http', '/things/:id', 200]]);
    const trace = spans.filter((s) => s.traceId === server[0].traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const reachesServer = (spanId: string | undefined): boolean => {
      for (let s = spanId ? byId.get(spanId) : undefined; s; s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined)
        if (s === server[0]) return true;
      return false;
    };
    const scopes = new Set(trace.filter((s) => s !== server[0]).map((s) => s.scope));
    expect(scopes).toEqual(new Set(['@opentelemetry/instrumentation-nestjs-core']));
    for (const s of trace) expect([s.name, reachesServer(s.spanId)]).toEqual([s.name, true]);
    const handler = trace.find(
      (s) => s.scope === '@opentelemetry/instrumentation-nestjs-core' && s.name === 'ThingsController.get',
    );
    expect(handler).toBeDefined();
    expect(spans.every((s) => s.instance !== undefined && /-\d+$/.test(s.instance))).toBe(true);

    const lines = parsed(r.lines());
    const logged = lines.find((l) => l.msg === 'looked up thing 42');
    expect(logged).toMatchObject({ trace_id: server[0].traceId, trace_flags: '01' });
    expect(byId.has(logged!.span_id!)).toBe(true);
    // the quiet paths are not logged per request either; the traced request is, with its trace id
    expect(lines.filter((l) => l.msg === 'request completed').map((l) => [l.req?.url, l.trace_id])).toEqual([
      ['/things/42', server[0].traceId],
    ]);
  });

  it('still shuts down promptly, exit 0, with a warning, when the collector is gone at the end', async () => {
    const nobody = await freePort(); // nothing listens there
    const { r, url } = await started({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${nobody}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    });
    expect((await fetch(`${url}/things/1`)).status).toBe(200);
    const sent = Date.now();
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
    expect(Date.now() - sent).toBeLessThan(FLUSH_TIMEOUT_MS);
    expect(
      parsed(r.lines())
        .filter((l) => l.level === 40 && l.context === 'Telemetry')
        .map((l) => l.msg),
    ).toEqual([expect.stringMatching(/^the last spans could not be exported: /)]);
  });

  it('gives up on the last spans after FLUSH_TIMEOUT_MS when the collector takes the connection and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const { r, url } = await started({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      });
      expect((await fetch(`${url}/things/1`)).status).toBe(200);
      const sent = Date.now();
      r.child.kill('SIGTERM');
      expect((await r.exited).code).toBe(0);
      expect(Date.now() - sent).toBeGreaterThanOrEqual(FLUSH_TIMEOUT_MS);
      expect(
        parsed(r.lines())
          .filter((l) => l.level === 40 && l.context === 'Telemetry')
          .map((l) => l.msg),
      ).toEqual([`the last spans were not exported within ${FLUSH_TIMEOUT_MS} ms; exiting without them`]);
      expect(sockets.length).toBeGreaterThan(0); // the export was on its way
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 20_000);

  it('exports nothing and writes no trace ids without OTEL_* settings', async () => {
    const before = receiver.requests;
    const { r, url } = await started({ OTEL_BSP_SCHEDULE_DELAY: '10' });
    expect((await fetch(`${url}/things/7`)).status).toBe(200);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(0);
    const logged = parsed(r.lines()).find((l) => l.msg === 'looked up thing 7');
    expect(logged).toBeDefined();
    expect(logged!.trace_id).toBeUndefined();
    expect(receiver.requests).toBe(before);
  });

  it('refuses to start on a malformed OTEL_* value, naming it in a JSON line', async () => {
    const r = fixture.run({ ...receiver.env, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' });
    runs.push(r);
    expect((await r.exited).code).toBe(1);
    expect(parsed(r.lines())).toEqual([
      expect.objectContaining({
        level: 60,
        msg: "kit-telemetry failed to start: OTEL_EXPORTER_OTLP_PROTOCOL must be one of grpc, http/protobuf, http/json; got 'http/xml'",
      }),
    ]);
  });
});
