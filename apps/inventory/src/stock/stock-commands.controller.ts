import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { trace } from '@opentelemetry/api';
import { CommitStock, ReleaseStock, ReserveStock } from '@warren/contracts';
import { MessagingContext } from '@warren/messaging/nest';
import { TypeOrmInbox } from '@warren/messaging/typeorm';
import { StockService } from './stock.service';

/**
 * The saga's commands to inventory (queue `inventory.commands`). Each applies once per message id (inbox); answers
 * go through the outbox. Each names its order on the span it is handled in (the messaging library's consumer span),
 * so the reservation, commit or release is found in the order's trace by `warren.order.id`.
 */
@Controller()
export class StockCommandsController {
  // one line per command applied, written once its transaction committed (a redelivery skipped by the inbox writes
  // none), inside the command's span: the log of an order carries its trace id
  private readonly logger = new Logger('StockCommands');

  constructor(
    @Inject(TypeOrmInbox) private readonly inbox: TypeOrmInbox,
    @Inject(StockService) private readonly stock: StockService,
  ) {}

  @EventPattern(ReserveStock.type, { contract: ReserveStock, command: true })
  async reserve(@Payload() command: ReserveStock, @Ctx() ctx: MessagingContext): Promise<void> {
    annotateOrder(command.orderId);
    const outcome = await this.inbox.handle(ctx.getMessage(), ReserveStock.type, (manager) =>
      this.stock.reserve(manager, command.orderId, command.items, command.deadline),
    );
    if (outcome.duplicate) return;
    const r = outcome.result;
    this.logger.log(
      r.reserved
        ? `order ${command.orderId}: reserved ${r.lines.length} line(s), ${r.total} cents`
        : `order ${command.orderId}: reservation rejected (${r.reason})`,
    );
  }

  @EventPattern(ReleaseStock.type, { contract: ReleaseStock, command: true })
  async release(@Payload() command: ReleaseStock, @Ctx() ctx: MessagingContext): Promise<void> {
    annotateOrder(command.orderId);
    const outcome = await this.inbox.handle(ctx.getMessage(), ReleaseStock.type, (manager) =>
      this.stock.release(manager, command.orderId, command.reason),
    );
    if (!outcome.duplicate && outcome.result)
      this.logger.log(`order ${command.orderId}: stock released (${command.reason})`);
  }

  @EventPattern(CommitStock.type, { contract: CommitStock, command: true })
  async commit(@Payload() command: CommitStock, @Ctx() ctx: MessagingContext): Promise<void> {
    annotateOrder(command.orderId);
    const outcome = await this.inbox.handle(ctx.getMessage(), CommitStock.type, (manager) =>
      this.stock.commit(manager, command.orderId),
    );
    if (!outcome.duplicate && outcome.result) this.logger.log(`order ${command.orderId}: stock committed`);
  }
}

function annotateOrder(orderId: string): void {
  trace.getActiveSpan()?.setAttribute('warren.order.id', orderId);
}
