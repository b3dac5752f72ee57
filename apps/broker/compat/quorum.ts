// What the quorum-* scenario areas share: a durable quorum queue with, when asked, a fanout dead-letter exchange
// and a queue behind it, and publishing one message at a time, each confirmed before the next.
import type { Channel, ConfirmChannel } from 'amqplib';
import { publishConfirmed, type Ctx } from './harness';

export const QUORUM = { 'x-queue-type': 'quorum' } as const;

export interface DeadLetterSetup {
  /** 'bound': the exchange routes to the dead-letter queue; 'unbound': it routes nowhere; 'missing': no such exchange. */
  route: 'bound' | 'unbound' | 'missing';
  /** Declare the exchange and the queue durable (default: transient). */
  durable?: boolean;
}

/**
 * Declares the durable quorum queue `P-q` with `args`; with `deadLetter`, also the exchange `P-dlx` (fanout) named
 * as its x-dead-letter-exchange and the queue `P-dlq`. Returns both queue names.
 */
export async function quorumQueue(
  ctx: Ctx,
  ch: Channel,
  args: Record<string, unknown> = {},
  deadLetter?: DeadLetterSetup,
) {
  const q = ctx.name('q');
  const dlq = ctx.name('dlq');
  const all: Record<string, unknown> = { ...QUORUM, ...args };
  if (deadLetter) {
    const x = ctx.name('dlx');
    const durable = deadLetter.durable ?? false;
    if (deadLetter.route !== 'missing') await ch.assertExchange(x, 'fanout', { durable });
    if (deadLetter.route === 'bound') {
      await ch.assertQueue(dlq, { durable });
      await ch.bindQueue(dlq, x, '');
    }
    all['x-dead-letter-exchange'] = x;
  }
  await ch.assertQueue(q, { durable: true, arguments: all });
  return { q, dlq };
}

/** Publishes to `q` one by one, each confirmed before the next: `<body>:ack` or `<body>:nack` per message. */
export async function publishEach(ch: ConfirmChannel, q: string, bodies: string[], options = {}): Promise<string[]> {
  const out: string[] = [];
  for (const body of bodies) out.push(`${body}:${await publishConfirmed(ch, '', q, body, options)}`);
  return out;
}
