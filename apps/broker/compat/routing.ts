// Routing checks: declare and bind queues, publish, and read back what each queue got.

import type { ConfirmChannel, Options } from 'amqplib';
import { bodies } from './consuming';
import type { Ctx } from './context';

export type BindSpec = string | [string, Record<string, unknown>];
export type PublishSpec = string | { rk: string; body?: string; options?: Options.Publish };

/**
 * Declare one queue per key of `bindings` (named ctx.name(key)), bind it to `exchange` with
 * each of its binding keys (optionally with arguments), publish `messages` on a confirm
 * channel (so routing is complete once they are confirmed), then drain every queue.
 * Returns {key: [bodies...]}; a message's body defaults to its routing key. The queues are
 * declared with `queueOptions` (default: transient classic queues).
 */
export async function routeAndDrain(
  ctx: Ctx,
  ch: ConfirmChannel,
  exchange: string,
  bindings: Record<string, BindSpec[]>,
  messages: PublishSpec[],
  queueOptions: Options.AssertQueue = { durable: false },
): Promise<Record<string, string[]>> {
  const names: Record<string, string> = {};
  for (const [k, specs] of Object.entries(bindings)) {
    const q = ctx.name(`q-${k}`);
    names[k] = q;
    await ch.assertQueue(q, queueOptions);
    for (const spec of specs) {
      const [key, args] = typeof spec === 'string' ? [spec, undefined] : spec;
      await ch.bindQueue(q, exchange, key, args);
    }
  }
  for (const m of messages) {
    const spec = typeof m === 'string' ? { rk: m } : m;
    ch.publish(exchange, spec.rk, Buffer.from(spec.body ?? spec.rk), spec.options ?? {});
  }
  await ch.waitForConfirms();
  const out: Record<string, string[]> = {};
  for (const [k, q] of Object.entries(names)) out[k] = await bodies(ch, q);
  return out;
}
