// The declare-bind-publish-read sequence most scenarios start with, in steps a scenario can use on their own:
// declare (and bind) queues, publish on a confirm channel and wait for the confirms (routing is then
// complete), read back what each queue got.

import type { Channel, ConfirmChannel, Options } from 'amqplib';
import { bodies } from './consuming';
import type { Ctx } from './context';

export type BindSpec = string | [string, Record<string, unknown>];
export type PublishSpec = string | { rk: string; body?: string; options?: Options.Publish };

/** Transient classic queues, unless a scenario says otherwise. */
const TRANSIENT: Options.AssertQueue = { durable: false };

/**
 * Declare one queue per key of `bindings` (named ctx.name(`q-${key}`)) and bind it to `exchange` with each of
 * its binding keys (optionally with arguments). Returns {key: queue name}.
 */
export async function declareBound(
  ctx: Ctx,
  ch: ConfirmChannel,
  exchange: string,
  bindings: Record<string, BindSpec[]>,
  queueOptions: Options.AssertQueue = TRANSIENT,
): Promise<Record<string, string>> {
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
  return names;
}

/** Publish `messages` to `exchange` (a message's body defaults to its routing key) and wait for their confirms. */
export async function publishAll(ch: ConfirmChannel, exchange: string, messages: PublishSpec[]): Promise<void> {
  for (const m of messages) {
    const spec = typeof m === 'string' ? { rk: m } : m;
    ch.publish(exchange, spec.rk, Buffer.from(spec.body ?? spec.rk), spec.options ?? {});
  }
  await ch.waitForConfirms();
}

/**
 * declareBound(), publishAll(), then drain every queue: returns {key: [bodies...]}. The queues are declared
 * with `queueOptions` (default: transient classic queues).
 */
export async function routeAndDrain(
  ctx: Ctx,
  ch: ConfirmChannel,
  exchange: string,
  bindings: Record<string, BindSpec[]>,
  messages: PublishSpec[],
  queueOptions: Options.AssertQueue = TRANSIENT,
): Promise<Record<string, string[]>> {
  const names = await declareBound(ctx, ch, exchange, bindings, queueOptions);
  await publishAll(ch, exchange, messages);
  const out: Record<string, string[]> = {};
  for (const [k, q] of Object.entries(names)) out[k] = await bodies(ch, q);
  return out;
}

/**
 * Declare `queue` (default: transient classic) and put `messages` in it through the default exchange, waiting
 * for their confirms. Returns the queue's name.
 */
export async function fillQueue(
  ch: ConfirmChannel,
  queue: string,
  messages: string[],
  queueOptions: Options.AssertQueue = TRANSIENT,
): Promise<string> {
  await ch.assertQueue(queue, queueOptions);
  for (const body of messages) ch.sendToQueue(queue, Buffer.from(body));
  await ch.waitForConfirms();
  return queue;
}

/** `${prefix}0` .. `${prefix}${n - 1}`: n message bodies that show their order. */
export const numbered = (n: number, prefix = ''): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Declare transient exchanges {key: type}, each named ctx.name(key). Returns {key: exchange name}. */
export async function declareExchanges<K extends string>(
  ctx: Ctx,
  ch: Channel,
  types: Record<K, string>,
): Promise<Record<K, string>> {
  const names = {} as Record<K, string>;
  for (const key of Object.keys(types) as K[]) {
    names[key] = ctx.name(key);
    await ch.assertExchange(names[key], types[key], { durable: false });
  }
  return names;
}

/** Declare queue ctx.name(suffix) (transient classic) and bind it to `exchange` with `key`. Returns its name. */
export async function boundQueue(ctx: Ctx, ch: Channel, exchange: string, key: string, suffix = 'q'): Promise<string> {
  const q = ctx.name(suffix);
  await ch.assertQueue(q, TRANSIENT);
  await ch.bindQueue(q, exchange, key);
  return q;
}
