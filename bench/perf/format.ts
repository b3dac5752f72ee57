// Human-readable summaries of perf runs.

import type { LatencyResult } from './latency';
import { fmtInt, fmtNum } from './stats';
import type { ThroughputResult } from './throughput';

export function formatThroughput(r: ThroughputResult, confirms: boolean, ack: boolean): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const line = (label: string, count: number, rate: number) =>
    `  ${label.padEnd(10)} ${fmtInt(count).padStart(13)} msgs ${fmtInt(rate).padStart(12)} msg/s`;
  const lines = [
    `Throughput: ${plural(r.publishers, 'publisher')}, ${plural(r.consumers, 'consumer')}, ${r.size}-byte bodies, ` +
      `${ack ? 'manual acks' : 'no-ack'}; stopped by ${r.stoppedBy} after ${fmtNum(r.elapsedSeconds, 2)} s`,
    line('published', r.published, r.publishRate),
  ];
  if (confirms) lines.push(line('confirmed', r.confirmed, r.confirmRate));
  if (r.nacked > 0) lines.push(`  nacked     ${fmtInt(r.nacked).padStart(13)} msgs`);
  lines.push(line('consumed', r.consumed, r.consumeRate));
  return lines.join('\n');
}

export function formatLatency(r: LatencyResult): string {
  const us = (v: number) => `${fmtNum(v, 0)} µs`;
  return [
    `Latency: ${fmtInt(r.count)} round trips of ${r.size}-byte messages, one at a time; stopped by ${r.stoppedBy} after ${fmtNum(r.elapsedSeconds, 2)} s (${fmtInt(r.rate)} round trips/s)`,
    `  min ${us(r.minUs)}   mean ${us(r.meanUs)}   p50 ${us(r.p50Us)}   p95 ${us(r.p95Us)}   p99 ${us(r.p99Us)}   max ${us(r.maxUs)}`,
  ].join('\n');
}
