// What the headers of a message dead-lettered once (from one queue, for one reason) look like in a normalised
// outcome, for the scenarios' expectations.

export interface DeathOpts {
  /** the queue it died in (default 'P-q') */
  queue?: string;
  /** the exchange it had been published to (default '', the default exchange) */
  exchange?: string;
  /** its routing keys, CC and BCC included (default [queue]) */
  keys?: string[];
  /** times it died this way (default 1) */
  count?: number;
}

/** The x-death entry and the x-first-death-* headers of a message dead-lettered for `reason`. */
export function deathHeaders(reason: string, opts: DeathOpts = {}): Record<string, unknown> {
  const queue = opts.queue ?? 'P-q';
  const exchange = opts.exchange ?? '';
  return {
    'x-death': [
      { count: opts.count ?? 1, reason, queue, time: '<time>', exchange, 'routing-keys': opts.keys ?? [queue] },
    ],
    'x-first-death-exchange': exchange,
    'x-first-death-queue': queue,
    'x-first-death-reason': reason,
  };
}
