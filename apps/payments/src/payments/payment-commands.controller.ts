import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { CapturePayment, expiry, RefundPayment } from '@warren/contracts';
import { RetryUntilError } from '@warren/messaging';
import { MessagingContext } from '@warren/messaging/nest';
import { TypeOrmInbox } from '@warren/messaging/typeorm';
import { annotateOrder, traceGateway } from '../gateway/gateway-tracing';
import { GatewayUnavailableError, PaymentGateway, type ChargeResult } from '../gateway/payment-gateway';
import { PaymentStatus } from './payment.entity';
import { PaymentsService, type CaptureAttempt } from './payments.service';

/** The saga's commands to payments (queue `payments.commands`). Each applies once per message id (inbox); answers go through the outbox. */
@Controller()
export class PaymentCommandsController {
  // one line per command applied, written once its transaction committed (a redelivery skipped by the inbox writes
  // none), inside the command's span: the log of an order carries its trace id
  private readonly logger = new Logger('PaymentCommands');

  constructor(
    @Inject(TypeOrmInbox) private readonly inbox: TypeOrmInbox,
    @Inject(PaymentsService) private readonly payments: PaymentsService,
    @Inject(PaymentGateway) private readonly gateway: PaymentGateway,
  ) {}

  /**
   * Charges through the gateway outside the database transaction (its latency must not hold a write lock),
   * then records the outcome and its answer in the inbox transaction. A transient gateway failure throws: the
   * library retries with backoff; a capture with a deadline goes on being retried until its deadline
   * (RetryUntilError), then is answered as late below, so a gateway down for longer than the retries leaves an
   * answer the saga acts on rather than a DLQ entry; one without a deadline is parked in `payments.commands.dlq`
   * after the policy's attempts. A decline is an answer.
   * A capture taken at or after its deadline (it waited in the queue, in a retry or in the DLQ while the saga gave
   * up) never reaches the gateway: the saga is cancelling the order, and a charge now would only be refunded.
   */
  @EventPattern(CapturePayment.type, { contract: CapturePayment, command: true })
  async capture(@Payload() command: CapturePayment, @Ctx() ctx: MessagingContext): Promise<void> {
    const message = ctx.getMessage();
    annotateOrder(command.orderId);
    if (await this.inbox.has(CapturePayment.type, message.messageId)) return; // a redelivery: charged (or not) before
    const existing = await this.payments.findByOrder(command.orderId);
    // the deadline is read once, here, before the gateway: a capture taken in time is recorded as the gateway
    // answers, however long the gateway takes (the money has moved by then); an order captured already is answered
    // with its payment whatever the deadline, so the saga never cancels without refunding it
    const expired = existing?.status === PaymentStatus.Captured ? undefined : expiry(command.deadline);
    const attempt: CaptureAttempt = expired
      ? { expired }
      : existing
        ? { existing: true }
        : {
            charge: await traceGateway('capture', command.orderId, command.amount, async () => {
              const result: ChargeResult = await this.gateway.charge(command.amount).catch((err: Error) => {
                throw err instanceof GatewayUnavailableError && command.deadline
                  ? new RetryUntilError(command.deadline, err)
                  : err;
              });
              return { outcome: result.approved ? 'approved' : 'declined', result };
            }),
          };
    const outcome = await this.inbox.handle(message, CapturePayment.type, (manager) =>
      this.payments.recordCapture(manager, command, attempt),
    );
    if (!outcome.duplicate) this.logger.log(`order ${command.orderId}: ${outcome.result}`);
  }

  @EventPattern(RefundPayment.type, { contract: RefundPayment, command: true })
  async refund(@Payload() command: RefundPayment, @Ctx() ctx: MessagingContext): Promise<void> {
    annotateOrder(command.orderId);
    await traceGateway('refund', command.orderId, undefined, async (span) => {
      const outcome = await this.inbox.handle(ctx.getMessage(), RefundPayment.type, (manager) =>
        this.payments.refund(manager, command.orderId, command.reason),
      );
      if (outcome.duplicate) return { outcome: 'duplicate', result: undefined };
      span.setAttribute('warren.payment.amount', outcome.result.amount);
      this.logger.log(
        `order ${command.orderId}: refund ${outcome.result.outcome}, ${outcome.result.amount} cents (${command.reason})`,
      );
      return { outcome: outcome.result.outcome, result: undefined };
    });
  }
}
