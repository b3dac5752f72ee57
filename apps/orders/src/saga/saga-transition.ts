import type { Order } from '../orders/order.entity';
import type { SagaMessage } from './saga-outbox';

/** A history row to append. */
export interface SagaStepRecord {
  step: string;
  detail?: Record<string, unknown>;
}

/**
 * What an answer (or the deadline) does to an order: a state change (optional: some answers only add to
 * the history), the history rows, and the messages to send, all committed in one transaction.
 */
export interface SagaTransition {
  patch?: Partial<Pick<Order, 'status' | 'sagaState' | 'reason' | 'total' | 'pricedItems' | 'paymentId' | 'deadlineAt'>>;
  steps: SagaStepRecord[];
  messages: SagaMessage[];
}

/** Two writers raced on one order (a delivery and the sweeper, or two instances); the loser is retried. */
export class ConcurrentTransitionError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} changed while this transition was being applied; retrying`);
    this.name = 'ConcurrentTransitionError';
  }
}
