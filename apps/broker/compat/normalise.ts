// Normalising outcomes, so that what legitimately differs between two runs or two brokers compares equal.

/**
 * Normalise an outcome: replace the run prefix with 'P', server-generated names,
 * consumer tags and reply-to names with placeholders, and x-death `time` values
 * with '<time>' (after checking they look like a recent timestamp).
 */
export function normalise(v: any, prefix: string): any {
  const str = (s: string) =>
    s
      .split(prefix)
      .join('P')
      .replace(/amq\.gen-[A-Za-z0-9_-]+/g, 'amq.gen-*')
      .replace(/amq\.ctag-[A-Za-z0-9_-]+/g, 'amq.ctag-*')
      .replace(/amq\.rabbitmq\.reply-to\.[A-Za-z0-9_.=+/-]+/g, 'amq.rabbitmq.reply-to.*');
  const walk = (x: any, key?: string): any => {
    if (x === null || x === undefined) return x;
    if (typeof x === 'string') return str(x);
    if (Buffer.isBuffer(x)) return { $bytes: x.toString('hex') };
    if (Array.isArray(x)) return x.map((e) => walk(e));
    if (typeof x === 'object') {
      if (key === 'time' && x['!'] === 'timestamp') {
        const secs = Number(x.value);
        const now = Date.now() / 1000;
        return Math.abs(now - secs) < 600 ? '<time>' : `<bad time ${secs}>`;
      }
      const out: any = {};
      for (const k of Object.keys(x)) out[str(k)] = walk(x[k], k);
      return out;
    }
    return x;
  };
  return walk(v);
}

/** Remove error `text` fields (used when a scenario does not opt into text comparison). */
export function stripTexts(v: any): any {
  if (v === null || v === undefined || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(stripTexts);
  const out: any = {};
  for (const k of Object.keys(v)) {
    if (k === 'text' && v.kind === 'error') continue;
    out[k] = stripTexts(v[k]);
  }
  return out;
}
