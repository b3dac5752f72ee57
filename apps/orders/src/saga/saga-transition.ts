import type { Order } from '../orders/order.entity';
import type { SagaMessage } from './saga-outbox';
import type { SagaProgress } from './saga-telemetry';

/** A history row to append. */
export interface SagaStepRecord {
  step: string;
  detail?: Record<string, unknown>;
}

/** The message that drove a step, as the history shows it. */
export interface DrivingMessage {
  type: string;
  messageId: string;
  correlationId: string;
}

/**
 * Why a transition happened: an answer that was delivered (the history names it), or the sweeper's deadline
 * (no message drove it). PLACED is written by OrdersService and says `via: 'http'`.
 */
export type StepCause = { message: DrivingMessage } | { via: 'deadline' };

/** Steps that undo part of the saga, marked `compensation: true` in the history. */
export const COMPENSATING_STEPS: ReadonlySet<string> = new Set([
  'STOCK_RELEASE_REQUESTED',
  'STOCK_RELEASED',
  'REFUND_REQUESTED',
  'PAYMENT_REFUNDED',
]);

/**
 * What an answer (or the deadline) does to an order: a state change (optional: some answers only add to
 * the history), the history rows, and the messages to send, all committed in one transaction.
 */
export interface SagaTransition {
  /** Without `status`: apply() derives it from `sagaState` (publicStatus). */
  patch?: Partial<Pick<Order, 'sagaState' | 'reason' | 'total' | 'pricedItems' | 'paymentId' | 'deadlineAt'>>;
  steps: SagaStepRecord[];
  messages: SagaMessage[];
  /** Set when the transition ends the saga (for `warren.saga.outcomes`). */
  outcome?: SagaProgress['outcome'];
}

/** Two writers raced on one order (a delivery and the sweeper, or two instances); the loser is retried. */
export class ConcurrentTransitionError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} changed while this transition was being applied; retrying`);
    this.name = 'ConcurrentTransitionError';
  }
}
