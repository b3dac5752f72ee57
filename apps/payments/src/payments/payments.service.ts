import { Inject, Injectable, Logger } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import {
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  type CapturePayment,
  type Expired,
} from '@warren/contracts';
import type { MessageContract, PayloadInput } from '@warren/messaging';
import { Outbox, runInTransaction } from '@warren/messaging/typeorm';
import { topologyNames } from '@warren/service-kit';
import { randomUUID } from 'node:crypto';
import { Not, type DataSource, type EntityManager } from 'typeorm';
import type { GatewayOutcome } from '../gateway/gateway-tracing';
import type { ChargeResult } from '../gateway/payment-gateway';
import { Payment, PaymentStatus, Refund } from './payment.entity';

export interface LedgerEntry {
  id: string;
  kind: 'capture' | 'refund';
  orderId: string;
  /** The captured payment (for a capture, its own id). */
  paymentId: string;
  /** Integer cents. */
  amount: number;
  at: string;
  status?: PaymentStatus;
  customerEmail?: string;
  reason?: string;
  /** For a capture: the payments instance that made it (payments, payments-2 …), when it was recorded. */
  instance?: string;
}

/**
 * What the capture handler did before its transaction: charged through the gateway (its answer), found a payment row
 * for the order already (the gateway was not called), or found the command past its deadline (not called either).
 */
export type CaptureAttempt = { charge: ChargeResult } | { existing: true } | { expired: Expired };

/**
 * The payments ledger. The recording methods run inside the caller's transaction (the inbox's) and write
 * their answer to the outbox in that same transaction.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger(PaymentsService.name);
  /** Read when the app is created, like the rest of the configuration. */
  private readonly eventsExchange = topologyNames().eventsExchange;
  /** Which instance this is (the demo sets WARREN_INSTANCE per process); recorded on each capture. */
  private readonly instance = process.env.WARREN_INSTANCE || 'payments';

  constructor(@Inject(getDataSourceToken()) private readonly dataSource: DataSource) {}

  /** The order's payment row (captured, refunded or voided), read outside any handler transaction. */
  findByOrder(orderId: string): Promise<Payment | null> {
    return runInTransaction(this.dataSource, (m) => m.findOneBy(Payment, { orderId }));
  }

  /**
   * Records the gateway's answer to a capture. An order already captured (another capture command for it, or
   * an instance that won a race) is answered with the existing payment and never charged again: `order_id`
   * is unique, so a racing insert fails and the command's retry finds the winner's row. A capture that came after
   * its deadline is answered payment.declined with `expired` and writes no row: nothing was charged, and the
   * saga, cancelling the order, has nothing to refund. Returns what it answered, in words for the log.
   */
  async recordCapture(manager: EntityManager, command: CapturePayment, attempt: CaptureAttempt): Promise<string> {
    const { orderId } = command;
    const existing = await manager.findOneBy(Payment, { orderId });
    if (existing?.status === PaymentStatus.Captured) {
      await this.answer(manager, orderId, PaymentCaptured, {
        orderId,
        paymentId: existing.id,
        amount: existing.amount,
      });
      return `captured before: payment ${existing.id}, ${existing.amount} cents`;
    }
    if ('expired' in attempt) {
      // said before a void's reason: the deadline is what the saga acts on, and it is true either way
      const reason = `the capture came after its deadline (${attempt.expired.deadline}); nothing was charged`;
      await this.answer(manager, orderId, PaymentDeclined, { orderId, reason, expired: attempt.expired });
      return `declined (${reason}, taken at ${attempt.expired.at})`;
    }
    if (existing) {
      const reason =
        existing.status === PaymentStatus.Refunded
          ? 'the order’s payment was already refunded'
          : 'the order was cancelled before its payment';
      await this.answer(manager, orderId, PaymentDeclined, { orderId, reason });
      return `declined (${reason})`;
    }
    // the handler saw a row and did not charge; rows are never deleted, so the checks above answered from it
    if (!('charge' in attempt))
      throw new Error(`order ${orderId}: a capture with no charge and no payment row to answer from`);
    const { charge } = attempt;
    if (!charge.approved) {
      await this.answer(manager, orderId, PaymentDeclined, { orderId, reason: charge.reason });
      return `declined (${charge.reason})`;
    }
    const payment: Payment = {
      id: randomUUID(),
      orderId,
      amount: command.amount,
      customerEmail: command.customerEmail,
      status: PaymentStatus.Captured,
      capturedAt: Date.now(),
      capturedBy: this.instance,
    };
    await manager.insert(Payment, payment);
    await this.answer(manager, orderId, PaymentCaptured, { orderId, paymentId: payment.id, amount: payment.amount });
    return `captured: payment ${payment.id}, ${payment.amount} cents`;
  }

  /**
   * Compensation: refunds what was captured for the order, once. A second refund answers again with the same
   * refund. With nothing captured it charges nothing back, marks the order VOIDED (so a capture that comes
   * later is declined instead of charging a cancelled order) and answers payment.refunded with amount 0.
   * Returns what the refund did and the amount it gave back (cents), for the refund's span.
   */
  async refund(
    manager: EntityManager,
    orderId: string,
    reason: string,
  ): Promise<{
    outcome: Extract<GatewayOutcome, 'refunded' | 'nothing-captured' | 'already-refunded'>;
    amount: number;
  }> {
    const payment = await manager.findOneBy(Payment, { orderId });
    if (!payment) {
      const voided: Payment = {
        id: randomUUID(),
        orderId,
        amount: 0,
        customerEmail: '',
        status: PaymentStatus.Voided,
        capturedAt: Date.now(),
        capturedBy: this.instance,
      };
      await manager.insert(Payment, voided);
      this.logger.log(`refund of order ${orderId} (${reason}): nothing was captured; the order is voided`);
      await this.answer(manager, orderId, PaymentRefunded, { orderId, paymentId: voided.id, amount: 0 });
      return { outcome: 'nothing-captured', amount: 0 };
    }
    if (payment.status === PaymentStatus.Voided) {
      await this.answer(manager, orderId, PaymentRefunded, { orderId, paymentId: payment.id, amount: 0 });
      return { outcome: 'nothing-captured', amount: 0 };
    }
    if (payment.status === PaymentStatus.Refunded) {
      const done = await manager.findOneByOrFail(Refund, { paymentId: payment.id });
      await this.answer(manager, orderId, PaymentRefunded, { orderId, paymentId: payment.id, amount: done.amount });
      return { outcome: 'already-refunded', amount: 0 };
    }
    await manager.insert(Refund, {
      id: randomUUID(),
      paymentId: payment.id,
      orderId,
      amount: payment.amount,
      reason,
      refundedAt: Date.now(),
    });
    await manager.update(Payment, { id: payment.id }, { status: PaymentStatus.Refunded });
    await this.answer(manager, orderId, PaymentRefunded, { orderId, paymentId: payment.id, amount: payment.amount });
    return { outcome: 'refunded', amount: payment.amount };
  }

  /** Captures and refunds, newest first (voided orders are not money movements and are left out). */
  async ledger(filter: { orderId?: string; limit: number }): Promise<LedgerEntry[]> {
    const { payments, refunds } = await runInTransaction(this.dataSource, async (m) => ({
      payments: await m.find(Payment, {
        where: { status: Not(PaymentStatus.Voided), ...(filter.orderId ? { orderId: filter.orderId } : {}) },
        order: { capturedAt: 'DESC' },
        take: filter.limit,
      }),
      refunds: await m.find(Refund, {
        where: filter.orderId ? { orderId: filter.orderId } : {},
        order: { refundedAt: 'DESC' },
        take: filter.limit,
      }),
    }));
    const entries: Array<LedgerEntry & { ms: number }> = [
      ...payments.map((p) => ({
        id: p.id,
        kind: 'capture' as const,
        orderId: p.orderId,
        paymentId: p.id,
        amount: p.amount,
        status: p.status,
        customerEmail: p.customerEmail,
        ...(p.capturedBy ? { instance: p.capturedBy } : {}),
        at: new Date(p.capturedAt).toISOString(),
        ms: p.capturedAt,
      })),
      ...refunds.map((r) => ({
        id: r.id,
        kind: 'refund' as const,
        orderId: r.orderId,
        paymentId: r.paymentId,
        amount: r.amount,
        reason: r.reason,
        at: new Date(r.refundedAt).toISOString(),
        ms: r.refundedAt,
      })),
    ];
    // newest first; on the same millisecond a refund comes after (so, above) its capture
    entries.sort((a, b) => b.ms - a.ms || (a.kind === b.kind ? 0 : a.kind === 'refund' ? -1 : 1));
    return entries.slice(0, filter.limit).map(({ ms: _ms, ...e }) => e);
  }

  private async answer<C extends MessageContract>(
    manager: EntityManager,
    orderId: string,
    contract: C,
    payload: PayloadInput<C>,
  ): Promise<void> {
    await Outbox.addValidated(manager, contract, payload, {
      exchange: this.eventsExchange,
      aggregateId: `order:${orderId}`,
    });
  }
}
