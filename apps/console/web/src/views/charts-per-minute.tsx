import { useWidth } from './charts-width';

export interface MinutePoint {
  /** ISO 8601, the minute's start. */
  minute: string;
  pageViews: number;
  clicks: number;
}

const HEIGHT = 170;
const PAD = { top: 10, right: 8, bottom: 22, left: 34 };
const hhmm = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** A round number at or above `n` for the axis top (1, 2, 5 × 10^k). */
function niceMax(n: number): number {
  if (n <= 5) return 5;
  const step = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * step).find((v) => v >= n) ?? 10 * step;
}

/**
 * Page views and clicks per minute, stacked bars, oldest minute on the left. The numbers are in the figure's
 * caption and label too, for whoever does not see the bars.
 */
export function PerMinuteChart({ points }: { points: MinutePoint[] }) {
  const [ref, width] = useWidth<HTMLDivElement>(640);
  const totals = points.map((p) => p.pageViews + p.clicks);
  const pageViews = points.reduce((n, p) => n + p.pageViews, 0);
  const clicks = points.reduce((n, p) => n + p.clicks, 0);
  const peakAt = totals.indexOf(Math.max(0, ...totals));
  const peak = points[peakAt];
  const last = points[points.length - 1];
  const summary =
    `Last ${points.length} minutes: ${pageViews} page views and ${clicks} clicks` +
    (peak && totals[peakAt] > 0
      ? `; busiest minute ${hhmm(peak.minute)} with ${peak.pageViews} page views and ${peak.clicks} clicks`
      : '') +
    (last ? `; this minute ${last.pageViews} page views and ${last.clicks} clicks` : '') +
    '.';

  const top = niceMax(Math.max(0, ...totals));
  const plotW = width - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = points.length ? plotW / points.length : plotW;
  const bar = Math.max(1, slot * 0.75);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  // a time label every 10 minutes on a wide chart, every 15, 20 or 30 on a narrow one: ~64 px each, no overlap
  const every = [10, 15, 20, 30].find((n) => slot * n >= 64) ?? 60;

  return (
    <figure className="chart" data-chart="per-minute" data-page-views={pageViews} data-clicks={clicks}>
      <div ref={ref} className="chart-canvas">
        <svg width={width} height={HEIGHT} role="img" aria-label={summary}>
          {[0, top / 2, top].map((v) => (
            <g key={v} className="grid">
              <line x1={PAD.left} x2={width - PAD.right} y1={y(v)} y2={y(v)} />
              <text x={PAD.left - 4} y={y(v) + 4} textAnchor="end">
                {v}
              </text>
            </g>
          ))}
          {points.map((p, i) => {
            const x = PAD.left + i * slot + (slot - bar) / 2;
            return (
              <g key={p.minute}>
                <title>{`${hhmm(p.minute)}: ${p.pageViews} page views, ${p.clicks} clicks`}</title>
                <rect className="page-views" x={x} width={bar} y={y(p.pageViews)} height={y(0) - y(p.pageViews)} />
                <rect
                  className="clicks"
                  x={x}
                  width={bar}
                  y={y(p.pageViews + p.clicks)}
                  height={y(p.pageViews) - y(p.pageViews + p.clicks)}
                />
                {(points.length - 1 - i) % every === 0 ? (
                  <text
                    className="axis"
                    x={x + bar / 2}
                    y={HEIGHT - 6}
                    textAnchor={x + bar / 2 + 32 > width ? 'end' : 'middle'}
                  >
                    {hhmm(p.minute)}
                  </text>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption>
        <span className="legend page-views">page views</span> <span className="legend clicks">clicks</span> — {summary}
      </figcaption>
    </figure>
  );
}
