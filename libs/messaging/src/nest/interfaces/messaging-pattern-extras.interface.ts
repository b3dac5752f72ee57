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
}
