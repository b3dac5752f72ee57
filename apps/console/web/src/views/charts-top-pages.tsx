import { useWidth } from './charts-width';

const ROW = 30;
const LABEL_H = 12;

/** Horizontal bars, one per page, longest first, each with its URL above and its count beside the bar. */
export function TopPagesChart({ pages }: { pages: Array<{ url: string; views: number }> }) {
  const [ref, width] = useWidth<HTMLDivElement>(640);
  const max = Math.max(1, ...pages.map((p) => p.views));
  const summary = pages.length
    ? `Top pages: ${pages.map((p) => `${p.url} ${p.views} views`).join(', ')}.`
    : 'No page views in the window.';
  const numberW = 48;
  const barMax = Math.max(20, width - numberW);
  const height = Math.max(ROW, pages.length * ROW);
  // about 6.5 px a character at 11 px: a URL longer than the chart is cut (the caption has it whole)
  const maxChars = Math.max(10, Math.floor(width / 6.5));
  return (
    <figure className="chart" data-chart="top-pages">
      <div ref={ref} className="chart-canvas">
        <svg width={width} height={height} role="img" aria-label={summary}>
          {pages.map((p, i) => {
            const w = Math.max(2, (p.views / max) * barMax);
            const top = i * ROW;
            return (
              <g key={p.url} data-url={p.url} data-views={p.views}>
                <text className="label" x={0} y={top + LABEL_H - 2}>
                  {p.url.length > maxChars ? `${p.url.slice(0, maxChars - 1)}…` : p.url}
                </text>
                <rect className="page-views" x={0} y={top + LABEL_H} width={w} height={ROW - LABEL_H - 5} rx={2} />
                <text className="value" x={w + 4} y={top + ROW - 8}>
                  {p.views}
                </text>
              </g>
            );
          })}
          {!pages.length ? (
            <text className="label" x={0} y={18}>
              No page views yet.
            </text>
          ) : null}
        </svg>
      </div>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
