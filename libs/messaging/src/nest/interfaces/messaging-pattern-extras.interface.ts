import type { MessageContract } from '../../contracts/define-message';

/**
 * What MessagingServer reads from a pattern's extras:
 *
 *   @EventPattern(OrderPlaced.type, { contract: OrderPlaced })
 *
 * With a contract the payload is validated (and transformed by the schema) before the handler runs; an invalid
 * message goes straight to the DLQ (an RPC request gets an error reply) and the handler never sees it.
 */
export interface MessagingPatternExtras {
  contract?: MessageContract;
  /**
   * A fire-and-forget command (docs/architecture.md, Messaging topology: `warren.commands`, routing key
   * `<service>.<command>`) rather than an event: the work queue is bound to the commands exchange with this exact
   * key. Failures retry and park like events do.
   *
   *   @EventPattern(ReserveStock.type, { contract: ReserveStock, command: true })
   */
  command?: boolean;
}
