import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SpanStatusCode } from '@opentelemetry/api';
import { runInTransaction } from '@warren/messaging/typeorm';
import { DataSource } from 'typeorm';
import { Order } from '../orders/order.entity';
import { OrderSagaService } from './order-saga.service';
import { SagaConfig } from './saga-config';
import { ORDER_ID_ATTRIBUTE, SagaTelemetry } from './saga-telemetry';
import { ConcurrentTransitionError } from './saga-transition';

const BATCH = 100;

/**
 * Cancels sagas whose awaited answer did not come in time. Every SAGA_SWEEP_INTERVAL_MS it reads the
 * overdue orders and times each out in a transaction of its own; a transition that races an answer loses
 * or wins by the order's version, so an order is never both confirmed and timed out. Several instances
 * may sweep at once for the same reason. Stopped (the running sweep awaited) before the database closes.
 */
@Injectable()
export class SagaSweeperService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SagaSweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderSagaService) private readonly saga: OrderSagaService,
    @Inject(SagaConfig) private readonly config: SagaConfig,
    @Inject(SagaTelemetry) private readonly telemetry: SagaTelemetry,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((err: Error) => this.logger.warn(`sweep failed: ${err.message}`))
        .finally(() => (this.running = undefined));
    }, this.config.sweepIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Times out every overdue saga (in batches); returns how many were cancelled. */
  async sweep(now = Date.now()): Promise<number> {
    let cancelled = 0;
    for (;;) {
      const overdue = await runInTransaction(this.dataSource, (m) =>
        m
          .createQueryBuilder(Order, 'o')
          .select(['o.id', 'o.traceContext'])
          .where('o.deadlineAt <= :now', { now })
          .andWhere('o.sagaState IN (:...states)', { states: ['PENDING', 'STOCK_RESERVED'] })
          .orderBy('o.deadlineAt', 'ASC')
          .limit(BATCH)
          .getMany(),
      );
      let progressed = 0;
      for (const { id, traceContext } of overdue) {
        if (await this.timeOut(id, traceContext, now)) progressed++;
      }
      cancelled += progressed;
      if (overdue.length < BATCH || progressed === 0) return cancelled;
    }
  }

  /**
   * Times out one order in a transaction of its own, in a span of its own: no message drives a timeout, so the span
   * continues the order's trace from the span its latest step ran in (stored with the order), and the compensations
   * it sends stay in that trace.
   */
  private timeOut(id: string, traceContext: string | null, now: number): Promise<boolean> {
    const parent = this.telemetry.orderContext(traceContext);
    return this.telemetry.tracer.startActiveSpan(
      'saga timeout',
      { attributes: { [ORDER_ID_ATTRIBUTE]: id } },
      parent,
      async (span) => {
        try {
          const progress = await runInTransaction(this.dataSource, async (m) => {
            const order = await m.findOneBy(Order, { id });
            return order ? this.saga.timeOut(m, order, now) : undefined;
          });
          if (!progress) return false;
          this.saga.committed(progress);
          this.logger.log(`order ${id} timed out`);
          return true;
        } catch (err) {
          // an answer got there first: the next sweep looks again if it is still overdue
          if (!(err instanceof ConcurrentTransitionError)) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            throw err;
          }
          span.setAttribute('warren.saga.lost_race', true);
          return false;
        } finally {
          span.end();
        }
      },
    );
  }
}
