import { HttpException, HttpStatus, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { OrderPlaced, ReserveStock } from '@warren/contracts';
import { isUniqueViolation, runInTransaction } from '@warren/messaging/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { addToOutbox, command, event } from '../saga/saga-outbox';
import { SagaConfig } from '../saga/saga-config';
import { SagaTelemetry } from '../saga/saga-telemetry';
import { Order } from './order.entity';
import { OrderStep } from './order-step.entity';
import { canonicalJson, type ListOrdersQuery, type PlaceOrderBody } from './place-order.schema';
import { toView, type OrderView } from './order-view';

export interface Placed {
  order: OrderView;
  /** false when the Idempotency-Key named an order placed before. */
  created: boolean;
}

@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(SagaConfig) private readonly config: SagaConfig,
    @Inject(SagaTelemetry) private readonly telemetry: SagaTelemetry,
  ) {}

  /**
   * Stores the order, its first history row, `order.placed` and `inventory.reserve-stock` in one
   * transaction (outbox). With an idempotency key, the same key and body give back the first order; the
   * same key with another body is a 422.
   */
  async place(body: PlaceOrderBody, idempotencyKey?: string): Promise<Placed> {
    const requestHash = idempotencyKey ? createHash('sha256').update(canonicalJson(body)).digest('hex') : null;
    try {
      const placed = await runInTransaction(this.dataSource, async (manager): Promise<Placed> => {
        if (idempotencyKey) {
          const earlier = await manager.findOneBy(Order, { idempotencyKey });
          if (earlier)
            return this.replay(earlier, requestHash, await manager.findBy(OrderStep, { orderId: earlier.id }));
        }
        const now = Date.now();
        const order: Order = {
          id: randomUUID(),
          customerEmail: body.customerEmail,
          items: JSON.stringify(body.items),
          pricedItems: null,
          total: null,
          status: 'PENDING',
          sagaState: 'PENDING',
          reason: null,
          paymentId: null,
          deadlineAt: now + this.config.stepTimeoutMs,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          traceContext: this.telemetry.traceContext(),
          version: 1,
          createdAt: now,
          updatedAt: now,
        };
        await manager.insert(Order, order);
        const sent = await addToOutbox(
          manager,
          this.config,
          order.id,
          [
            event(OrderPlaced, {
              orderId: order.id,
              customerEmail: order.customerEmail,
              items: body.items,
              placedAt: new Date(now).toISOString(),
            }),
            command(ReserveStock, { orderId: order.id, items: body.items }),
          ],
          order.deadlineAt,
        );
        // no message drove this step: it came over HTTP (the saga's later steps name theirs)
        const step = {
          orderId: order.id,
          step: 'PLACED',
          at: now,
          detail: JSON.stringify({ items: body.items, via: 'http', sent }),
        };
        await manager.insert(OrderStep, step);
        return { order: toView(order, [{ id: 0, ...step }]), created: true };
      });
      if (placed.created) this.logger.log(`order ${placed.order.id}: PLACED`);
      return placed;
    } catch (err) {
      // another instance placed an order with this key between our read and our insert
      if (!idempotencyKey || !isUniqueViolation(err)) throw err;
      const earlier = await this.read((m) => m.findOneBy(Order, { idempotencyKey }));
      if (!earlier) throw err;
      return this.replay(earlier, requestHash, await this.read((m) => m.findBy(OrderStep, { orderId: earlier.id })));
    }
  }

  async get(id: string): Promise<OrderView> {
    const found = await this.read(async (m) => {
      const order = await m.findOneBy(Order, { id });
      return order
        ? { order, steps: await m.find(OrderStep, { where: { orderId: id }, order: { id: 'ASC' } }) }
        : undefined;
    });
    if (!found) throw new NotFoundException(`no order ${id}`);
    return toView(found.order, found.steps);
  }

  /** Newest first; `total` counts every order matching the filter. */
  async list(q: ListOrdersQuery): Promise<{ items: OrderView[]; total: number; limit: number; offset: number }> {
    const [rows, total] = await this.read((m) =>
      m.findAndCount(Order, {
        where: q.status ? { status: q.status } : {},
        order: { createdAt: 'DESC', id: 'DESC' },
        take: q.limit,
        skip: q.offset,
      }),
    );
    return { items: rows.map((o) => toView(o)), total, limit: q.limit, offset: q.offset };
  }

  private replay(earlier: Order, requestHash: string | null, steps: OrderStep[]): Placed {
    if (earlier.requestHash !== requestHash) {
      throw new HttpException(
        {
          statusCode: 422,
          error: 'Unprocessable Entity',
          message: `Idempotency-Key '${earlier.idempotencyKey}' was already used with a different request body (order ${earlier.id})`,
        },
        HttpStatus.UNPROCESSABLE_ENTITY,
      );
    }
    return {
      order: toView(
        earlier,
        steps.sort((a, b) => a.id - b.id),
      ),
      created: false,
    };
  }

  /**
   * Reads go through runInTransaction too: on SQLite every statement shares one connection, and a read
   * issued while a handler's transaction is open would see its uncommitted rows.
   */
  private read<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return runInTransaction(this.dataSource, fn);
  }
}
