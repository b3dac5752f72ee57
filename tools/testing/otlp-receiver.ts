// An OTLP/HTTP JSON trace receiver for tests: the services under test export to it as they would to a collector
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL=http/json), and the test reads the spans back
// from memory. It keeps every span it is sent; a body it cannot read fails the test that reads spans next, with
// the reason, rather than being dropped quietly.
import { createServer, type Server } from 'node:http';
import { freePort } from './ports';

/** One span as the test reads it: OTLP's fields flattened, attributes as plain values, times in ms. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId?: string;
  name: string;
  /** OTLP's SpanKind number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The resource's service.name. */
  service: string;
  /** The resource's service.instance.id, when set. */
  instance?: string;
  scope: string;
  attributes: Record<string, unknown>;
  startMs: number;
  endMs: number;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: number;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>;
}

export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue;
}

function value(v: OtlpValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

const attributes = (list: OtlpKeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
const ms = (nanos: string | number): number => Number(BigInt(nanos) / 1_000_000n);

/** Flattens one ExportTraceServiceRequest (OTLP/JSON: ids are hex strings). */
export function flattenOtlp(body: { resourceSpans?: unknown[] }): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (body.resourceSpans ?? []) as Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: any[] }>;
  }>) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind ?? 0,
          service: String(resource['service.name'] ?? 'unknown'),
          instance: resource['service.instance.id'] === undefined ? undefined : String(resource['service.instance.id']),
          scope: ss.scope?.name ?? '',
          attributes: attributes(s.attributes),
          startMs: ms(s.startTimeUnixNano),
          endMs: ms(s.endTimeUnixNano),
          status: s.status?.code ?? 0,
          links: ((s.links ?? []) as Array<{ traceId: string; spanId: string; attributes?: OtlpKeyValue[] }>).map(
            (l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributes(l.attributes) }),
          ),
        });
      }
    }
  }
  return out;
}

export class OtlpReceiver {
  private readonly received: ReceivedSpan[] = [];
  private readonly unread: Buffer[] = [];
  private readonly problems: string[] = [];
  requests = 0;

  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        this.problems.push(`${req.method} ${req.url}: not the OTLP traces path`);
        res.writeHead(404).end();
        return;
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
        this.problems.push(`a body of type '${req.headers['content-type']}': the services must export OTLP/JSON`);
        res.writeHead(415).end();
        return;
      }
      // read when spans are asked for, not here: a collector runs elsewhere, and a benchmark measuring what tracing
      // costs the services should not count the parsing against them
      this.unread.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  private constructor(readonly port: number) {}

  /** Listens on a free loopback port. */
  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(await freePort());
    await new Promise<void>((resolve, reject) =>
      receiver.server.once('error', reject).listen(receiver.port, '127.0.0.1', resolve),
    );
    return receiver;
  }

  /** The environment that makes a service export its spans here, promptly (by default a 100 ms batch delay). */
  envWith(batchDelayMs = 100): Record<string, string> {
    return {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${this.port}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: String(batchDelayMs),
    };
  }

  get env(): Record<string, string> {
    return this.envWith();
  }

  /** Every span received so far; throws if a request could not be read. */
  spans(): ReceivedSpan[] {
    for (const body of this.unread.splice(0)) {
      try {
        this.received.push(...flattenOtlp(JSON.parse(body.toString('utf8'))));
      } catch (err) {
        this.problems.push(`an unreadable body: ${(err as Error).message}`);
      }
    }
    if (this.problems.length > 0)
      throw new Error(`the OTLP receiver got requests it could not read:\n${this.problems.join('\n')}`);
    return [...this.received];
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans().filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
