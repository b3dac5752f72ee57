// A synthetic click stream for analytics' POST /collect: visitors browse a small shop, popular pages far more
// often than others (Zipf-like), some visitors far busier than others, clicks between page views. Used by
// `npm run traffic:clicks` and `npm run demo:traffic`.
const site = 'https://shop.example';
const pages = [
  '/',
  '/products',
  '/products/lamp',
  '/products/chair',
  '/products/desk',
  '/cart',
  '/checkout',
  '/about',
  '/blog/queues',
  '/blog/sagas',
  '/help',
];
const weights = pages.map((_, i) => 1 / (i + 1));
const totalWeight = weights.reduce((a, b) => a + b, 0);

function pickPage() {
  let r = Math.random() * totalWeight;
  for (let i = 0; i < pages.length; i++) if ((r -= weights[i]) <= 0) return pages[i];
  return pages[0];
}

/**
 * Sends `rate` events per second in batches every 250 ms to `<url>/collect` until stop(). `stats` counts
 * accepted and rejected events and failed requests; `onError` hears about failures.
 */
export function startClickStream({ url, rate, visitors = 200, onError = () => undefined }) {
  const pool = Array.from({ length: visitors }, (_, i) => ({ id: `visitor-${i + 1}`, page: '/' }));
  const pickVisitor = () => pool[Math.floor(Math.random() ** 2 * pool.length)];
  const nextEvent = () => {
    const v = pickVisitor();
    const at = new Date().toISOString();
    if (Math.random() < 0.25)
      return {
        type: 'click',
        visitorId: v.id,
        url: site + v.page,
        element: Math.random() < 0.5 ? 'add-to-cart' : 'nav',
        at,
      };
    const referrer = site + v.page;
    v.page = pickPage();
    return { type: 'page_view', visitorId: v.id, url: site + v.page, referrer, at };
  };
  const stats = { accepted: 0, rejected: 0, failures: 0 };
  let carry = 0;
  const timer = setInterval(async () => {
    carry += rate / 4;
    const n = Math.floor(carry);
    carry -= n;
    if (n === 0) return;
    try {
      const res = await fetch(`${url}/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: Array.from({ length: n }, nextEvent) }),
      });
      if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const body = await res.json();
      stats.accepted += body.accepted;
      stats.rejected += body.rejected.length;
    } catch (err) {
      stats.failures++;
      onError(err, stats.failures);
    }
  }, 250);
  return { stats, stop: () => clearInterval(timer) };
}
