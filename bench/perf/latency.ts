// Latency mode: one message in flight at a time. A publisher connection sends a message, a consumer
// connection receives it, and only then is the next one sent; each round trip (publish written to the socket
// -> delivery complete at the consumer) is timed with process.hrtime. The first --warmup round trips are not
// counted. Stops after --count measured round trips or --time seconds, whichever comes first.

import { BASIC_CONSUME, BASIC_CONSUME_OK, BASIC_QOS, BASIC_QOS_OK } from '@warren/amqp-protocol';
import { AmqpError, Channel, Connection, writePublish } from './client';
import { summariseLatencies, type LatencySummary } from './stats';
import { declareTopology, deleteTopology, type Topology } from './topology';

export interface LatencyOptions {
  uri: string;
  /** Measured round trips. */
  count: number;
  /** Round trips before measuring. */
  warmup: number;
  size: number;
  persistent: boolean;
  /** Manual acks (each delivery acked on its own) instead of no-ack. */
  ack: boolean;
  timeSeconds?: number;
  queue?: string;
  /** Stops the run early (Ctrl-C); the result is reported as usual. */
  signal?: AbortSignal;
  /** Called when measuring starts (connected, declared, consuming) and when it ends (before teardown). */
  onPhase?: (phase: 'start' | 'end') => void;
}

export interface LatencyResult extends LatencySummary {
  size: number;
  elapsedSeconds: number;
  /** Round trips per second (measured ones). */
  rate: number;
  stoppedBy: 'count' | 'time' | 'signal';
}

export const LATENCY_DEFAULTS: Omit<LatencyOptions, 'uri'> = {
  count: 10_000,
  warmup: 100,
  size: 16,
  persistent: false,
  ack: false,
};

export async function runLatency(input: Partial<LatencyOptions> & { uri: string }): Promise<LatencyResult> {
  const o: LatencyOptions = { ...LATENCY_DEFAULTS, ...input };
  if (!(Number.isInteger(o.count) && o.count > 0)) throw new Error('count must be a positive integer');
  if (!(Number.isInteger(o.warmup) && o.warmup >= 0)) throw new Error('warmup must be a non-negative integer');
  if (!(Number.isInteger(o.size) && o.size >= 0)) throw new Error('size must be a non-negative integer');

  const connections: Connection[] = [];
  let admin: Channel | null = null;
  let topology: Topology | null = null;
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  const open = async (name: string) => {
    const conn = await Connection.open(o.uri, { name });
    conn.onClose = (e) => fail(e);
    connections.push(conn);
    return conn;
  };
  try {
    const adminConn = await open('perf-latency-admin');
    admin = await adminConn.openChannel({ onClose: (e) => fail(e) });
    topology = await declareTopology(admin, { queue: o.queue, queues: 1, durable: o.persistent, exchange: '' });
    const queue = topology.queues[0];

    const pubConn = await open('perf-latency-publisher');
    const pubCh = await pubConn.openChannel({ onClose: (e) => fail(e) });
    const subConn = await open('perf-latency-consumer');

    const total = o.warmup + o.count;
    const samples = new Float64Array(o.count);
    const body = Buffer.alloc(o.size, 0x78);
    let received = 0;
    let sentAt = 0n;
    let measuredFrom = 0n;
    let finish: (reason: LatencyResult['stoppedBy']) => void = () => undefined;
    const finished = new Promise<LatencyResult['stoppedBy']>((resolve) => {
      finish = resolve;
    });
    let done = false;

    const publishOne = () => {
      if (o.size >= 4) body.writeUInt32BE(received >>> 0, 0);
      writePublish(pubConn.writer, pubCh.id, '', queue, body, o.persistent, pubConn.frameMax);
      sentAt = process.hrtime.bigint();
      pubConn.flush();
    };

    const subCh = await subConn.openChannel({
      onDelivery: (tag, first) => {
        const now = process.hrtime.bigint();
        if (done) return;
        if (o.size >= 4 && first !== null && first.length >= 4 && first.readUInt32BE(0) !== received >>> 0) {
          fail(new AmqpError(`round trip ${received}: got message ${first.readUInt32BE(0)} instead`));
          return;
        }
        if (o.ack) {
          // before the next publish, or the broker would hold that message back for the prefetch of 1
          subCh.ack(tag, false);
          subConn.flush();
        }
        if (received >= o.warmup) samples[received - o.warmup] = Number(now - sentAt) / 1000;
        received++;
        if (received === o.warmup) measuredFrom = now;
        if (received >= total) {
          done = true;
          finish('count');
          return;
        }
        publishOne();
      },
      onCancel: () => fail(new AmqpError('the broker cancelled the consumer')),
      onClose: (e) => fail(e),
    });
    if (o.ack) await subCh.rpc(BASIC_QOS, { prefetchSize: 0, prefetchCount: 1, global: false }, BASIC_QOS_OK);
    await subCh.rpc(
      BASIC_CONSUME,
      { queue, consumerTag: 'perf-latency', noAck: !o.ack, exclusive: false, arguments: new Map() },
      BASIC_CONSUME_OK,
    );

    o.onPhase?.('start');
    const start = process.hrtime.bigint();
    measuredFrom = start;
    const timer = o.timeSeconds !== undefined ? setTimeout(() => finish('time'), o.timeSeconds * 1000) : null;
    const onSignal = () => finish('signal');
    o.signal?.addEventListener('abort', onSignal);
    if (o.signal?.aborted) finish('signal');
    publishOne();
    let stoppedBy: LatencyResult['stoppedBy'];
    try {
      stoppedBy = await Promise.race([finished, failed]);
    } finally {
      done = true;
      o.onPhase?.('end');
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onSignal);
    }
    const end = process.hrtime.bigint();
    const measured = Math.max(0, received - o.warmup);
    const elapsedSeconds = Number(end - measuredFrom) / 1e9;
    return {
      ...summariseLatencies(samples.subarray(0, measured)),
      size: o.size,
      elapsedSeconds,
      rate: measured / Math.max(elapsedSeconds, 1e-9),
      stoppedBy,
    };
  } finally {
    for (const conn of connections.slice(1)) await conn.close().catch(() => undefined);
    if (admin && topology && !admin.closed) await deleteTopology(admin, topology).catch(() => undefined);
    if (connections[0]) await connections[0].close().catch(() => undefined);
  }
}
