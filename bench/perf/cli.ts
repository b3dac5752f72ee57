// Command line of the perf tool: `perf throughput [flags]` and `perf latency [flags]`.

import { parseArgs } from 'node:util';
import { LATENCY_DEFAULTS, type LatencyOptions } from './latency';
import { THROUGHPUT_DEFAULTS, type ThroughputOptions } from './throughput';

export const DEFAULT_URI = 'amqp://guest:guest@localhost:5672';
const DEFAULT_SECONDS = 10;

export const USAGE = `Usage: npm run perf -- <throughput|latency> [flags]

A load generator for any AMQP 0-9-1 broker: a raw client (no amqplib) that pipelines publishes in big
batched writes. Every run is bounded: by --time, or by a message count.

throughput: x publishers and y consumers, each on its own connection; prints rates every second and a summary.
  --uri URI            broker (default ${DEFAULT_URI})
  -x, --publishers N   publisher connections (default ${THROUGHPUT_DEFAULTS.publishers})
  -y, --consumers N    consumer connections (default ${THROUGHPUT_DEFAULTS.consumers})
  -s, --size BYTES     message body size (default ${THROUGHPUT_DEFAULTS.size})
  --time SECONDS       stop after this long (default ${DEFAULT_SECONDS} unless --pmessages is given)
  --pmessages N        messages per publisher; the run ends when all were published and consumed
  --ack | --no-ack     manual acks, or no-ack consumers (default --no-ack)
  --prefetch N         basic.qos prefetch per consumer, with --ack (default ${THROUGHPUT_DEFAULTS.prefetch})
  --ack-every N        with --ack: one basic.ack(multiple) per N deliveries (default prefetch / 2)
  --confirm N          publisher confirms, at most N unconfirmed messages per publisher (default off)
  --persistent         delivery-mode 2, into durable queues
  --durable            durable queues without persistent messages
  --queue NAME         queue name (or base name with --queues); default: a generated name, deleted afterwards
  --queues N           spread messages over N queues (default 1); consumers split the queues between them
  --exchange NAME      publish through this direct exchange (declared unless amq.*; default '' = default exchange)
  --rate R             messages per second per publisher (default 0 = as fast as possible)
  --stall SECONDS      give up when nothing moved for this long (default ${THROUGHPUT_DEFAULTS.stallSeconds})

latency: one message at a time, publish -> deliver round trip on two connections; prints p50/p95/p99/max µs.
  --uri URI            broker (default ${DEFAULT_URI})
  --count N            measured round trips (default ${LATENCY_DEFAULTS.count})
  --warmup N           round trips before measuring (default ${LATENCY_DEFAULTS.warmup})
  -s, --size BYTES     message body size (default ${LATENCY_DEFAULTS.size})
  --persistent         delivery-mode 2, into a durable queue
  --ack                manual acks (prefetch 1) instead of no-ack
  --time SECONDS       stop after this long even if --count is not reached
  --queue NAME         queue name (default: generated, deleted afterwards)

Both: --json prints the result as one JSON line at the end; --quiet drops the per-second lines.`;

export class UsageError extends Error {}

export type Command =
  | { mode: 'throughput'; options: Partial<ThroughputOptions> & { uri: string }; json: boolean; quiet: boolean }
  | { mode: 'latency'; options: Partial<LatencyOptions> & { uri: string }; json: boolean; quiet: boolean }
  | { mode: 'help' };

function int(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return Number(value);
}

function seconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0))
    throw new UsageError(`--${name} must be a positive number of seconds, got '${value}'`);
  return n;
}

export function parseCommand(argv: string[]): Command {
  const [mode, ...rest] = argv;
  if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') return { mode: 'help' };
  if (mode !== 'throughput' && mode !== 'latency')
    throw new UsageError(`unknown mode '${mode}' (throughput or latency)`);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        uri: { type: 'string', short: 'u' },
        publishers: { type: 'string', short: 'x' },
        consumers: { type: 'string', short: 'y' },
        size: { type: 'string', short: 's' },
        time: { type: 'string', short: 'z' },
        pmessages: { type: 'string', short: 'C' },
        count: { type: 'string', short: 'n' },
        warmup: { type: 'string' },
        ack: { type: 'boolean' },
        'no-ack': { type: 'boolean' },
        prefetch: { type: 'string', short: 'q' },
        'ack-every': { type: 'string' },
        confirm: { type: 'string', short: 'c' },
        persistent: { type: 'boolean' },
        durable: { type: 'boolean' },
        queue: { type: 'string' },
        queues: { type: 'string' },
        exchange: { type: 'string', short: 'e' },
        rate: { type: 'string', short: 'r' },
        stall: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { mode: 'help' };
  const str = (k: string) => values[k] as string | undefined;
  const flag = (k: string) => values[k] === true;
  if (flag('ack') && flag('no-ack')) throw new UsageError('--ack and --no-ack exclude each other');
  const uri = str('uri') ?? DEFAULT_URI;
  const json = flag('json');
  const quiet = flag('quiet') || json;
  const time = seconds(str('time'), 'time');
  const size = int(str('size'), 'size');
  const throughputOnly = [
    'publishers',
    'consumers',
    'pmessages',
    'prefetch',
    'ack-every',
    'confirm',
    'durable',
    'queues',
    'exchange',
    'rate',
    'stall',
    'no-ack',
  ];
  const latencyOnly = ['count', 'warmup'];
  const misplaced = (mode === 'latency' ? throughputOnly : latencyOnly).filter((k) => values[k] !== undefined);
  if (misplaced.length) throw new UsageError(`--${misplaced[0]} does not apply to ${mode}`);

  if (mode === 'latency') {
    const options: Partial<LatencyOptions> & { uri: string } = {
      uri,
      timeSeconds: time,
      persistent: flag('persistent'),
      ack: flag('ack'),
    };
    const count = int(str('count'), 'count', 1);
    const warmup = int(str('warmup'), 'warmup');
    if (count !== undefined) options.count = count;
    if (warmup !== undefined) options.warmup = warmup;
    if (size !== undefined) options.size = size;
    if (str('queue') !== undefined) options.queue = str('queue');
    return { mode, options, json, quiet };
  }

  const pmessages = int(str('pmessages'), 'pmessages', 1);
  const prefetch = int(str('prefetch'), 'prefetch') ?? THROUGHPUT_DEFAULTS.prefetch;
  if (prefetch > 0xffff) throw new UsageError('--prefetch must be at most 65535');
  const options: Partial<ThroughputOptions> & { uri: string } = {
    uri,
    timeSeconds: time ?? (pmessages === undefined ? DEFAULT_SECONDS : undefined),
    pmessages,
    ack: flag('ack'),
    prefetch,
    ackEvery: int(str('ack-every'), 'ack-every', 1) ?? Math.max(1, Math.floor(prefetch / 2)),
    confirm: int(str('confirm'), 'confirm') ?? 0,
    persistent: flag('persistent'),
    durable: flag('durable'),
    exchange: str('exchange') ?? '',
    rate: int(str('rate'), 'rate') ?? 0,
  };
  const set = <K extends keyof ThroughputOptions>(key: K, value: ThroughputOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('publishers', int(str('publishers'), 'publishers'));
  set('consumers', int(str('consumers'), 'consumers'));
  set('size', size);
  set('queues', int(str('queues'), 'queues', 1));
  set('queue', str('queue'));
  set('stallSeconds', seconds(str('stall'), 'stall'));
  if (options.publishers === 0 && options.consumers === 0) throw new UsageError('-x 0 -y 0: nothing to run');
  if (options.publishers === 0 && time === undefined) throw new UsageError('a consume-only run (-x 0) needs --time');
  return { mode, options, json, quiet };
}
