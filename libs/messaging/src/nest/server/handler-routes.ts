import type { MessageHandler as NestHandler } from '@nestjs/microservices';
import type { MessageContract } from '../../contracts/define-message';
import { isWildcardPattern } from '../../core/topic-pattern';
import { MessagingError } from '../../errors';
import type { MessagingPatternExtras } from '../interfaces/messaging-pattern-extras.interface';

/** One pattern of the app and the Nest handler behind it (several @EventPattern methods on one pattern are chained by Nest). */
export interface HandlerRoute {
  pattern: string;
  contract?: MessageContract;
  /** An @EventPattern marked `command: true`: bound to the commands exchange. */
  command: boolean;
  handler: NestHandler;
}

export interface HandlerRoutes {
  /** @EventPattern: topic patterns on the events exchange, wildcards allowed. */
  events: HandlerRoute[];
  /** @MessagePattern: routing keys on the (direct) commands exchange. */
  messages: HandlerRoute[];
}

/**
 * Sorts the handlers Nest registered into event and request/reply routes, refusing at listen time what
 * could never be delivered: object patterns, wildcards on the direct commands exchange, malformed extras.
 */
export function collectRoutes(handlers: Map<string, NestHandler>, commandsExchange: string): HandlerRoutes {
  const routes: HandlerRoutes = { events: [], messages: [] };
  for (const [pattern, handler] of handlers) {
    const decorator = `@${handler.isEventHandler ? 'Event' : 'Message'}Pattern('${pattern}')`;
    if (!pattern || pattern.startsWith('{') || /\s/.test(pattern)) {
      throw invalid(
        `${decorator}: a pattern is a routing key such as 'order.placed'; object patterns and whitespace do not map to AMQP routing`,
      );
    }
    if (!handler.isEventHandler && handler.next) {
      throw invalid(
        `${decorator}: the pattern has both a @MessagePattern and an @EventPattern handler; give them different patterns`,
      );
    }
    const command = Boolean((handler.extras as MessagingPatternExtras | undefined)?.command);
    if (handler.isEventHandler && command && isWildcardPattern(pattern)) {
      throw invalid(
        `${decorator}: commands are bound to the commands exchange '${commandsExchange}', a direct exchange, which routes on exact keys only`,
      );
    }
    if (!handler.isEventHandler && isWildcardPattern(pattern)) {
      throw invalid(
        `${decorator}: request/reply handlers are bound to the commands exchange '${commandsExchange}', a direct exchange, which routes on exact keys only; ` +
          `wildcards (* and #) work with @EventPattern`,
      );
    }
    const route = { pattern, handler, command, contract: contractOf(handler, decorator) };
    (handler.isEventHandler ? routes.events : routes.messages).push(route);
  }
  return routes;
}

/** The contract from the extras; the handlers chained on one event pattern must agree on it. */
function contractOf(head: NestHandler, decorator: string): MessageContract | undefined {
  const contracts = new Set<MessageContract>();
  for (let h: NestHandler | undefined = head; h; h = h.next as NestHandler | undefined) {
    const contract = (h.extras as MessagingPatternExtras | undefined)?.contract;
    if (contract === undefined) continue;
    if (typeof contract !== 'object' || typeof contract.type !== 'string' || typeof contract.parse !== 'function') {
      throw invalid(`${decorator}: extras.contract must be a contract made with defineMessage()`);
    }
    contracts.add(contract);
  }
  if (contracts.size > 1) throw invalid(`${decorator}: the handlers on this pattern declare different contracts`);
  return contracts.values().next().value;
}

const invalid = (message: string): MessagingError =>
  new MessagingError('INVALID_HANDLER', `MessagingServer: ${message}`);
