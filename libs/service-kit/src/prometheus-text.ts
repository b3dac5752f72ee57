import { diag } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** What GET /metrics answers with: the Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// The exporter of the installed line turns `http.server.request.duration` into `http_server_request_duration`, with
// the unit only in a `# UNIT` comment (an OpenMetrics line). Prometheus users, dashboards and the names our docs
// promise expect the unit in the name, as the OpenTelemetry compatibility spec says: `_seconds`, `_bytes`, `_ratio`
// for a gauge of unit 1, nothing for an annotation such as `{message}`, and `_total` after it for counters.
const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  '%': 'percent',
};
const PER_UNIT_WORDS: Record<string, string> = { s: 'second', min: 'minute', h: 'hour', d: 'day' };

const sanitize = (s: string): string =>
  s
    .replace(/[^a-zA-Z0-9_]/g, '_')
    .replace(/_{2,}/g, '_')
    .replace(/^_|_$/g, '');

/** The suffix a metric's unit adds to its Prometheus name ('' for none); `gauge` says whether Prometheus sees a gauge. */
export function unitSuffix(unit: string, gauge: boolean): string {
  const u = unit.replace(/\{[^}]*\}/g, '').trim();
  if (u === '1') return gauge ? 'ratio' : '';
  if (u === '') return '';
  const [amount, per] = u.split('/', 2);
  const words = [
    amount ? (UNIT_WORDS[amount] ?? sanitize(amount)) : '',
    per ? `per_${PER_UNIT_WORDS[per] ?? sanitize(per)}` : '',
  ];
  return words.filter(Boolean).join('_');
}

/** The metric under its Prometheus base name (before `_total`): dots to underscores, the unit's suffix added once. */
function prometheusName(metric: MetricData): string {
  const base = sanitize(metric.descriptor.name);
  const gauge =
    metric.dataPointType === DataPointType.GAUGE || (metric.dataPointType === DataPointType.SUM && !metric.isMonotonic);
  const suffix = unitSuffix(metric.descriptor.unit, gauge);
  return suffix && !base.endsWith(`_${suffix}`) ? `${base}_${suffix}` : base;
}

/**
 * Renders what a reader collected as Prometheus text: one `target_info` family for the resource, then one family
 * per metric with HELP and TYPE before its samples. Scopes are flattened (the family name says where a metric
 * comes from), so two meters that create the same instrument share one family instead of repeating it, which the
 * format forbids; a clash of types keeps the first and says so on the diagnostic logger.
 */
export function toPrometheusText(collected: ResourceMetrics): string {
  const byName = new Map<string, MetricData>();
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = prometheusName(metric);
      const existing = byName.get(name);
      if (!existing) {
        byName.set(name, {
          ...metric,
          descriptor: { ...metric.descriptor, name, unit: '' },
          dataPoints: [...metric.dataPoints],
        } as MetricData);
      } else if (existing.dataPointType === metric.dataPointType) {
        (existing.dataPoints as unknown[]).push(...metric.dataPoints);
      } else {
        diag.warn(
          `metric ${metric.descriptor.name} of ${scope.scope.name} clashes with another of the same name and a different type: left out of /metrics`,
        );
      }
    }
  }
  const merged: ResourceMetrics = {
    resource: collected.resource,
    scopeMetrics: [{ scope: { name: 'warren' }, metrics: [...byName.values()] }],
  };
  return serializer.serialize(merged);
}

// no scope labels: the scopes are merged above, and a label naming one would split a family's series by it
const serializer = new PrometheusSerializer('', false, undefined, false, true);
