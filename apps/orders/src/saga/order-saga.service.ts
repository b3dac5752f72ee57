import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CapturePayment,
  CommitStock,
  OrderCancelled,
  OrderConfirmed,
  RefundPayment,
  ReleaseStock,
  type Expired,
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
import { AWAITED, publicStatus, type SagaState } from '../orders/order-status';
import { Order } from '../orders/order.entity';
import { OrderStep } from '../orders/order-step.entity';
import { SagaConfig } from './saga-config';
import { SagaTelemetry, type SagaCancelReason, type SagaProgress } from './saga-telemetry';
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
 * reserve-stock and capture-payment carry the step's deadline; taken after it, they are refused and answered with
 * `expired` (stock-rejected, payment.declined), and nothing was done for them:
 *   PENDING --expired stock-rejected--> CANCELLED (timed out; order.cancelled)
 *   STOCK_RESERVED --expired payment.declined--> CANCELLED (timed out; release-stock, order.cancelled: no refund)
 *   CANCELLED --expired answer--> a history row only (the sweeper's compensations went out already)
 *
 * Any other answer does not fit the order's state: it is logged and acked, and changes nothing.
 */
@Injectable()
export class OrderSagaService {
  private readonly logger = new Logger('OrderSaga');

  constructor(
    @Inject(TypeOrmInbox) private readonly inbox: TypeOrmInbox,
    @Inject(SagaConfig) private readonly config: SagaConfig,
    @Inject(SagaTelemetry) private readonly telemetry: SagaTelemetry,
  ) {}

  stockReserved(message: IncomingMessage<StockReserved>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order, now) => {
      if (order.sagaState === 'PENDING') {
        return {
          patch: {
            sagaState: 'STOCK_RESERVED',
            total: p.total,
            pricedItems: JSON.stringify(p.items),
            deadlineAt: now + this.config.stepTimeoutMs,
          },
          steps: [{ step: 'STOCK_RESERVED', detail: { total: p.total } }],
          messages: [
            command(CapturePayment, { orderId: order.id, amount: p.total, customerEmail: order.customerEmail }),
          ],
        };
      }
      if (order.sagaState === 'CANCELLED') {
        // reserved after the saga gave up (it timed out): give the stock back
        const reason = `order already cancelled: ${order.reason ?? 'cancelled'}`;
        return {
          steps: [{ step: 'STOCK_RELEASE_REQUESTED', detail: { reason } }],
          messages: [command(ReleaseStock, { orderId: order.id, reason })],
        };
      }
      return { ignore: `stock reserved while ${order.sagaState}` };
    });
  }

  stockRejected(message: IncomingMessage<StockRejected>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order) => {
      // nothing was reserved for the late command: nothing to release
      if (p.expired)
        return this.lateCommandRefused(order, 'PENDING', 'LATE_RESERVATION_REFUSED', p.reason, p.expired, []);
      if (order.sagaState !== 'PENDING') return { ignore: `stock rejected while ${order.sagaState}` };
      const reason =
        p.unavailable.length > 0
          ? `out of stock: ${p.unavailable.map((u) => `${u.sku} (requested ${u.requested}, available ${u.available})`).join(', ')}`
          : p.reason || 'out of stock';
      return this.cancel(order, reason, 'out-of-stock', [], { unavailable: p.unavailable });
    });
  }

  paymentCaptured(message: IncomingMessage<PaymentCaptured>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, (order, now) => {
      if (order.sagaState === 'STOCK_RESERVED') {
        const items = JSON.parse(order.pricedItems ?? '[]') as PricedLine[];
        const total = order.total ?? p.amount;
        return {
          patch: { sagaState: 'CONFIRMED', paymentId: p.paymentId, deadlineAt: null },
          steps: [{ step: 'CONFIRMED', detail: { paymentId: p.paymentId, amount: p.amount } }],
          outcome: { outcome: 'confirmed' },
          messages: [
            command(CommitStock, { orderId: order.id }),
            event(OrderConfirmed, {
              orderId: order.id,
              customerEmail: order.customerEmail,
              items,
              total,
              confirmedAt: new Date(now).toISOString(),
            }),
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
      // nothing was charged for the late capture: the stock goes back, and there is nothing to refund
      if (p.expired)
        return this.lateCommandRefused(order, 'STOCK_RESERVED', 'LATE_CAPTURE_REFUSED', p.reason, p.expired, [
          command(ReleaseStock, { orderId: order.id, reason: `timed out waiting for ${AWAITED.STOCK_RESERVED}` }),
        ]);
      if (order.sagaState !== 'STOCK_RESERVED') return { ignore: `payment declined while ${order.sagaState}` };
      const reason = `payment declined: ${p.reason || 'no reason given'}`;
      return this.cancel(order, reason, 'payment-declined', [command(ReleaseStock, { orderId: order.id, reason })]);
    });
  }

  stockReleased(message: IncomingMessage<StockReleased>): Promise<void> {
    return this.handle(message, message.payload.orderId, () => ({ steps: [{ step: 'STOCK_RELEASED' }], messages: [] }));
  }

  paymentRefunded(message: IncomingMessage<PaymentRefunded>): Promise<void> {
    const p = message.payload;
    return this.handle(message, p.orderId, () => ({
      steps: [{ step: 'PAYMENT_REFUNDED', detail: { paymentId: p.paymentId, amount: p.amount } }],
      messages: [],
    }));
  }

  /**
   * The deadline passed for the step the order is waiting in (called by the sweeper inside its
   * transaction): cancel, and undo what may have happened. A reserve-stock sent may have reserved even
   * without an answer yet, a capture-payment may have charged: both compensations are no-ops on the other
   * side when nothing happened. Returns what it did (for `committed`, once the sweeper's transaction commits),
   * or undefined when the order was not overdue.
   */
  async timeOut(manager: EntityManager, order: Order, now: number): Promise<SagaProgress | undefined> {
    const awaited = AWAITED[order.sagaState];
    if (!awaited || order.deadlineAt === null || order.deadlineAt > now) return undefined;
    const reason = `timed out waiting for ${awaited}`;
    const compensations: SagaMessage[] = [];
    if (order.sagaState === 'STOCK_RESERVED') compensations.push(command(RefundPayment, { orderId: order.id, reason }));
    compensations.push(command(ReleaseStock, { orderId: order.id, reason }));
    return this.apply(manager, order, this.cancel(order, reason, 'timeout', compensations), now, { via: 'deadline' });
  }

  /** Records a transition's metrics; call it once the transaction that applied the transition committed. */
  committed(progress: SagaProgress): void {
    this.telemetry.committed(progress);
    // one line per committed transition, inside the span it ran in, so the order's log lines carry its trace id
    const outcome = progress.outcome
      ? ` (${progress.outcome.outcome}${progress.outcome.outcome === 'cancelled' ? `: ${progress.outcome.reason}` : ''})`
      : '';
    this.logger.log(`order ${progress.orderId}: ${progress.steps.map((s) => s.step).join(', ')}${outcome}`);
  }

  /**
   * The command of the step `waitingIn` came to its service after the step's deadline, and the service refused it
   * and did nothing (late commands, docs/architecture.md). Still waiting (the answer beat the sweeper, which runs
   * every SAGA_SWEEP_INTERVAL_MS): the order times out here, with the sweeper's reason, but undoes only what did
   * happen (`compensations`; no refund of a charge that was never made). Already cancelled (the sweeper came first
   * and sent its compensations, which the other side treats as no-ops): a history row says the command was refused
   * and nothing is sent, so nothing is undone twice.
   */
  private lateCommandRefused(
    order: Order,
    waitingIn: SagaState,
    step: string,
    reason: string,
    expired: Expired,
    compensations: SagaMessage[],
  ): Decision {
    const refused = { reason, deadline: expired.deadline, refusedAt: expired.at };
    if (order.sagaState === waitingIn)
      return this.cancel(order, `timed out waiting for ${AWAITED[waitingIn]}`, 'timeout', compensations, { refused });
    if (order.sagaState === 'CANCELLED') return { steps: [{ step, detail: refused }], messages: [] };
    return { ignore: `${step.toLowerCase().replace(/_/g, ' ')} while ${order.sagaState}` };
  }

  private cancel(
    order: Order,
    reason: string,
    category: SagaCancelReason,
    compensations: SagaMessage[],
    extra: Record<string, unknown> = {},
  ): SagaTransition {
    return {
      patch: { sagaState: 'CANCELLED', reason, deadlineAt: null },
      outcome: { outcome: 'cancelled', reason: category },
      steps: [
        {
          step: 'CANCELLED',
          detail: {
            reason,
            ...extra,
            ...(compensations.length ? { compensations: compensations.map((c) => c.contract.type) } : {}),
          },
        },
      ],
      messages: [
        ...compensations,
        event(OrderCancelled, {
          orderId: order.id,
          customerEmail: order.customerEmail,
          reason,
          cancelledAt: new Date().toISOString(),
        }),
      ],
    };
  }

  /**
   * Runs one answer through the inbox: loads the order, decides, applies; records the metrics once the inbox's
   * transaction committed (a duplicate delivery never gets that far).
   */
  private async handle(
    message: IncomingMessage,
    orderId: string,
    decide: (order: Order, now: number) => Decision,
  ): Promise<void> {
    this.telemetry.annotate(orderId);
    const outcome = await this.inbox.handle(
      message,
      SAGA_CONSUMER,
      async (manager): Promise<{ ignored: string } | SagaProgress> => {
        const order = await manager.findOneBy(Order, { id: orderId });
        if (!order) return { ignored: `no order ${orderId}` };
        const now = Date.now();
        const decision = decide(order, now);
        if ('ignore' in decision) return { ignored: `${decision.ignore} (order ${orderId})` };
        return this.apply(manager, order, decision, now, {
          message: { type: message.type, messageId: message.messageId, correlationId: message.correlationId },
        });
      },
    );
    if (outcome.duplicate) return;
    if ('ignored' in outcome.result)
      this.logger.log(`ignored ${message.type} ${message.messageId}: ${outcome.result.ignored}`);
    else this.committed(outcome.result);
  }

  /**
   * Applies a transition in the caller's transaction; the version check makes a racing writer retry. Each
   * history row says what drove it (`cause`), what the transition sent (the outbox's ids, the ones consumers
   * will see) and whether it is a compensation, so the history reads as a timeline of messages. Returns what
   * the metrics record once the caller's transaction commits: each step's time since the order's previous step
   * (its last history row, which `updatedAt` follows) and the outcome when the transition ends the saga.
   */
  async apply(
    manager: EntityManager,
    order: Order,
    t: SagaTransition,
    now: number,
    cause: StepCause,
  ): Promise<SagaProgress> {
    // a step without a state change (a compensation's acknowledgement) still changes what GET /orders/:id
    // shows: updatedAt moves with every history row, so a reader watching the list knows to read it again
    const patch = t.patch?.sagaState ? { ...t.patch, status: publicStatus(t.patch.sagaState) } : (t.patch ?? {});
    const result = await manager
      .createQueryBuilder()
      .update(Order)
      .set({ ...patch, traceContext: this.telemetry.traceContext(), version: order.version + 1, updatedAt: now })
      .where('id = :id AND version = :version', { id: order.id, version: order.version })
      .execute();
    if (result.affected !== 1) throw new ConcurrentTransitionError(order.id);
    const previousStepAt = order.updatedAt;
    Object.assign(order, patch, { version: order.version + 1, updatedAt: now });
    this.telemetry.annotate(order.id, t.steps.at(-1)?.step);
    // the commands sent carry the deadline of the step the order is now in (none once it is settled)
    const sent = await addToOutbox(manager, this.config, order.id, t.messages, order.deadlineAt);
    for (const s of t.steps) {
      const detail = { ...s.detail, ...cause, sent, ...(COMPENSATING_STEPS.has(s.step) ? { compensation: true } : {}) };
      await manager.insert(OrderStep, { orderId: order.id, step: s.step, at: now, detail: JSON.stringify(detail) });
    }
    const seconds = Math.max(0, now - previousStepAt) / 1000;
    return {
      orderId: order.id,
      steps: t.steps.map((s) => ({ step: s.step, seconds })),
      ...(t.outcome ? { outcome: t.outcome } : {}),
    };
  }
}
