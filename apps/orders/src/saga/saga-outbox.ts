import type { MessageContract, PayloadInput } from '@warren/messaging';
import { Outbox } from '@warren/messaging/typeorm';
import type { EntityManager } from 'typeorm';
import { Order } from '../orders/order.entity';
import type { SagaConfig } from './saga-config';

/** A message the saga wants sent once its transaction commits. */
export interface SagaMessage {
  kind: 'command' | 'event';
  contract: MessageContract;
  payload: unknown;
}

export const command = <C extends MessageContract>(contract: C, payload: PayloadInput<C>): SagaMessage => ({
  kind: 'command',
  contract,
  payload,
});
export const event = <C extends MessageContract>(contract: C, payload: PayloadInput<C>): SagaMessage => ({
  kind: 'event',
  contract,
  payload,
});

/** A message written to the outbox, by the ids the relay will publish it with (for the order's history). */
export interface SentMessage {
  type: string;
  messageId: string;
  correlationId: string;
}

/**
 * Writes the messages to the outbox in the caller's transaction, validated against their contracts, and
 * returns their ids: the outbox stamps each message when it is written and the relay publishes those ids as
 * they are, so what the history records is what consumers will see.
 * Commands and events of one order are ordered separately (two aggregate ids): an event nobody has bound
 * a queue for yet is unroutable and waits in the outbox, and it must not hold back the saga's commands.
 * Every message carries the order id as its correlation id, whichever message (or none, for POST /orders and
 * the deadline) drove the step: the answers inherit it, so an order's messages, and its trace
 * (`messaging.message.conversation_id`), are found by the order id.
 * Likewise every command whose contract takes a `deadline` (reserve-stock, capture-payment) carries the order's
 * deadline as the step leaves it, `deadlineAt` (epoch ms): the one the sweeper enforces, so a service refuses exactly
 * the commands the saga gives up on (late commands, docs/architecture.md). A settled order has none, and the
 * compensations and commit-stock, which must apply whenever they come, take none. A caller that does not pass
 * `deadlineAt` has it read from the order's row (POST /orders and the saga pass it: no extra query on their path).
 */
export async function addToOutbox(
  manager: EntityManager,
  config: SagaConfig,
  orderId: string,
  messages: SagaMessage[],
  deadlineAt?: number | null,
): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  for (const m of messages) {
    let input = m.payload;
    if (m.kind === 'command' && takesDeadline(m.contract) && (input as { deadline?: unknown }).deadline === undefined) {
      if (deadlineAt === undefined)
        deadlineAt =
          (await manager.findOne(Order, { where: { id: orderId }, select: { id: true, deadlineAt: true } }))
            ?.deadlineAt ?? null;
      if (deadlineAt !== null) input = { ...(input as object), deadline: new Date(deadlineAt).toISOString() };
    }
    const row = await Outbox.addValidated(manager, m.contract, input, {
      exchange: m.kind === 'command' ? config.commandsExchange : config.eventsExchange,
      aggregateId: m.kind === 'command' ? `order:${orderId}` : `order-events:${orderId}`,
      correlationId: orderId,
    });
    sent.push({ type: row.type, messageId: row.messageId, correlationId: row.correlationId });
  }
  return sent;
}

/** Whether a contract's payload is an object with a `deadline` field (libs/contracts' Deadline). */
function takesDeadline(contract: MessageContract): boolean {
  const shape = (contract.schema as { shape?: Record<string, unknown> }).shape;
  return shape !== undefined && 'deadline' in shape;
}
