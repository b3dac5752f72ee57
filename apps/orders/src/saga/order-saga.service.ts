import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CapturePayment,
  CommitStock,
  OrderCancelled,
  OrderConfirmed,
  RefundPayment,
  ReleaseStock,
  type PaymentCaptured,
  type PaymentDeclined,
  type PaymentRefunded,
  type PricedLine,
  type StockRejected,
  type StockReleased,
  type StockReserved,
} from '@warren/contracts';
import type { IncomingMessage } from '@warren/messaging';
import { TypeOrmInbox } from '@warren/messaging/typeorm';
import type { EntityManager } from 'typeorm';
import { AWAITED } from '../orders/order-status';
import { Order } from '../orders/order.entity';
import { OrderStep } from '../orders/order-step.entity';
import { SagaConfig } from './saga-config';
import { addToOutbox, command, event, type SagaMessage } from './saga-outbox';
import { COMPENSATING_STEPS, ConcurrentTransitionError, type SagaTransition, type StepCause } from './saga-transition';

/** The inbox consumer name of every saga handler. */
export const SAGA_CONSUMER = 'orders.saga';

type Decision = SagaTransition | { ignore: string };

/**
 * The order saga's transitions. Each answer from inventory or payments is applied through the inbox: the
 * inbox row, the order's new state, its history rows and the messages it sends (outbox) commit together,
 * so a redelivered answer changes nothing and a crash leaves no half-applied step.
 *
 *   PENDING --stock-reserved--> STOCK_RESERVED (capture-payment) --payment.captured--> CONFIRMED (commit-stock, order.confirmed)
 *   PENDING --stock-rejected--> CANCELLED (order.cancelled)
 *   STOCK_RESERVED --payment.declined--> CANCELLED (release-stock, order.cancelled)
 *   PENDING / STOCK_RESERVED --deadline--> CANCELLED (release-stock [, refund-payment], order.cancelled)
 *   CANCELLED --late payment.captured--> refund-payment;  CANCELLED --late stock-reserved--> release-stock
 *
 * Any other answer does not fit the order's state: it is logged and acked, and changes nothing.
 */
@Injectable()
export class OrderSagaService {
  private readonly logger = new Logger('OrderSaga');

  constructor(
    @Inject(TypeOrmInbox) private readonly inbox: TypeOrmInbox,
    @Inject(SagaConfig) private readonly config: SagaConfig,
  ) {}

  stockReserved(message: IncomingMessage<StockReserved>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order, now) => {
      if (order.sagaState === 'PENDING') {
        return {
          patch: { sagaState: 'STOCK_RESERVED', total: p.total, pricedItems: JSON.stringify(p.items), deadlineAt: now + this.config.stepTimeoutMs },
          steps: [{ step: 'STOCK_RESERVED', detail: { total: p.total } }],
          messages: [command(CapturePayment, { orderId: order.id, amount: p.total, customerEmail: order.customerEmail })],
        };
      }
      if (order.sagaState === 'CANCELLED') {
        // reserved after the saga gave up (it timed out): give the stock back
        const reason = `order already cancelled: ${order.reason ?? 'cancelled'}`;
        return { steps: [{ step: 'STOCK_RELEASE_REQUESTED', detail: { reason } }], messages: [command(ReleaseStock, { orderId: order.id, reason })] };
      }
      return { ignore: `stock reserved while ${order.sagaState}` };
    });
  }

  stockRejected(message: IncomingMessage<StockRejected>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order) => {
      if (order.sagaState !== 'PENDING') return { ignore: `stock rejected while ${order.sagaState}` };
      const reason = p.unavailable.length > 0 ? `out of stock: ${p.unavailable.map((u) => `${u.sku} (requested ${u.requested}, available ${u.available})`).join(', ')}` : p.reason || 'out of stock';
      return this.cancel(order, reason, [], { unavailable: p.unavailable });
    });
  }

  paymentCaptured(message: IncomingMessage<PaymentCaptured>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order, now) => {
      if (order.sagaState === 'STOCK_RESERVED') {
        const items = JSON.parse(order.pricedItems ?? '[]') as PricedLine[];
        const total = order.total ?? p.amount;
        return {
          patch: { sagaState: 'CONFIRMED', status: 'CONFIRMED', paymentId: p.paymentId, deadlineAt: null },
          steps: [{ step: 'CONFIRMED', detail: { paymentId: p.paymentId, amount: p.amount } }],
          messages: [
            command(CommitStock, { orderId: order.id }),
            event(OrderConfirmed, { orderId: order.id, customerEmail: order.customerEmail, items, total, confirmedAt: new Date(now).toISOString() }),
          ],
        };
      }
      if (order.sagaState === 'CANCELLED') {
        // captured after the saga gave up: the money goes back
        const reason = `order already cancelled: ${order.reason ?? 'cancelled'}`;
        return {
          steps: [{ step: 'REFUND_REQUESTED', detail: { paymentId: p.paymentId, amount: p.amount, reason } }],
          messages: [command(RefundPayment, { orderId: order.id, reason })],
        };
      }
      return { ignore: `payment captured while ${order.sagaState}` };
    });
  }

  paymentDeclined(message: IncomingMessage<PaymentDeclined>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order) => {
      if (order.sagaState !== 'STOCK_RESERVED') return { ignore: `payment declined while ${order.sagaState}` };
      const reason = `payment declined: ${p.reason || 'no reason given'}`;
      return this.cancel(order, reason, [command(ReleaseStock, { orderId: order.id, reason })]);
    });
  }

  stockReleased(message: IncomingMessage<StockReleased>): Promise<void> {
    return this.handle(message, message.payload.orderId, () => ({ steps: [{ step: 'STOCK_RELEASED' }], messages: [] }));
  }

  paymentRefunded(message: IncomingMessage<PaymentRefunded>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, () => ({ steps: [{ step: 'PAYMENT_REFUNDED', detail: { paymentId: p.paymentId, amount: p.amount } }], messages: [] }));
  }

  /**
   * The deadline passed for the step the order is waiting in (called by the sweeper inside its
   * transaction): cancel, and undo what may have happened. A reserve-stock sent may have reserved even
   * without an answer yet, a capture-payment may have charged: both compensations are no-ops on the other
   * side when nothing happened.
   */
  async timeOut(manager: EntityManager, order: Order, now: number): Promise<boolean> {
    const awaited = AWAITED[order.sagaState];
    if (!awaited || order.deadlineAt === null || order.deadlineAt > now) return false;
    const reason = `timed out waiting for ${awaited}`;
    const compensations: SagaMessage[] = [];
    if (order.sagaState === 'STOCK_RESERVED') compensations.push(command(RefundPayment, { orderId: order.id, reason }));
    compensations.push(command(ReleaseStock, { orderId: order.id, reason }));
    await this.apply(manager, order, this.cancel(order, reason, compensations), now, { via: 'deadline' });
    return true;
  }

  private cancel(order: Order, reason: string, compensations: SagaMessage[], extra: Record<string, unknown> = {}): SagaTransition {
    return {
      patch: { sagaState: 'CANCELLED', status: 'CANCELLED', reason, deadlineAt: null },
      steps: [{ step: 'CANCELLED', detail: { reason, ...extra, ...(compensations.length ? { compensations: compensations.map((c) => c.contract.type) } : {}) } }],
      messages: [...compensations, event(OrderCancelled, { orderId: order.id, customerEmail: order.customerEmail, reason, cancelledAt: new Date().toISOString() })],
    };
  }

  /** Runs one answer through the inbox: loads the order, decides, applies. */
  private async handle(message: IncomingMessage, orderId: string, decide: (order: Order, now: number) => Decision): Promise<void> {
    const outcome = await this.inbox.handle(message, SAGA_CONSUMER, async (manager) => {
      const order = await manager.findOneBy(Order, { id: orderId });
      if (!order) return `no order ${orderId}`;
      const now = Date.now();
      const decision = decide(order, now);
      if ('ignore' in decision) return `${decision.ignore} (order ${orderId})`;
      await this.apply(manager, order, decision, now, { message: { type: message.type, messageId: message.messageId, correlationId: message.correlationId } });
      return undefined;
    });
    if (outcome.duplicate) return;
    if (outcome.result) this.logger.log(`ignored ${message.type} ${message.messageId}: ${outcome.result}`);
  }

  /**
   * Applies a transition in the caller's transaction; the version check makes a racing writer retry. Each
   * history row says what drove it (`cause`), what the transition sent (the outbox's ids, the ones consumers
   * will see) and whether it is a compensation, so the history reads as a timeline of messages.
   */
  async apply(manager: EntityManager, order: Order, t: SagaTransition, now: number, cause: StepCause): Promise<void> {
    // a step without a state change (a compensation's acknowledgement) still changes what GET /orders/:id
    // shows: updatedAt moves with every history row, so a reader watching the list knows to read it again
    const patch = t.patch ?? {};
    const result = await manager
      .createQueryBuilder()
      .update(Order)
      .set({ ...patch, version: order.version + 1, updatedAt: now })
      .where('id = :id AND version = :version', { id: order.id, version: order.version })
      .execute();
    if (result.affected !== 1) throw new ConcurrentTransitionError(order.id);
    Object.assign(order, patch, { version: order.version + 1, updatedAt: now });
    const sent = await addToOutbox(manager, this.config, order.id, t.messages);
    for (const s of t.steps) {
      const detail = { ...s.detail, ...cause, sent, ...(COMPENSATING_STEPS.has(s.step) ? { compensation: true } : {}) };
      await manager.insert(OrderStep, { orderId: order.id, step: s.step, at: now, detail: JSON.stringify(detail) });
    }
  }
}
