import { Inject, Injectable, Logger } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import {
  expiry,
  StockRejected,
  StockReleased,
  StockReserved,
  type OrderLine,
  type PricedLine,
} from '@warren/contracts';
import type { MessageContract, PayloadInput } from '@warren/messaging';
import { Outbox, runInTransaction } from '@warren/messaging/typeorm';
import { topologyNames } from '@warren/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { Reservation, ReservationStatus } from './reservation.entity';
import { StockItem } from './stock-item.entity';

/** The most units `available` holds: the stock columns are 32-bit integers on Postgres (SQLite keeps the same limit). */
export const MAX_STOCK = 2_147_483_647;

export type ReserveOutcome =
  { reserved: true; lines: PricedLine[]; total: number } | { reserved: false; reason: string };

/**
 * Stock keeping for the order saga. Every method runs inside the caller's transaction (the inbox's) and
 * writes its answer to the outbox in that same transaction.
 */
@Injectable()
export class StockService {
  private readonly logger = new Logger(StockService.name);
  /** Read when the app is created, like the rest of the configuration. */
  private readonly eventsExchange = topologyNames().eventsExchange;

  constructor(@Inject(getDataSourceToken()) private readonly dataSource: DataSource) {}

  /**
   * All lines or none. Each line is taken with a conditional UPDATE (`available >= quantity`), so concurrent
   * reservations never oversell on SQLite or Postgres; when a line is short, the lines already taken are
   * given back in the same transaction and the answer lists every short line.
   * A reserve taken at or after its `deadline` (epoch ms `now`) reserves nothing and is answered stock-rejected with
   * `expired`: the saga is cancelling the order, and stock held now would only be released again, after keeping
   * other orders from it meanwhile (the RELEASED mark of a release that came first refuses it as well).
   */
  async reserve(
    manager: EntityManager,
    orderId: string,
    items: OrderLine[],
    deadline?: string,
    now: number = Date.now(),
  ): Promise<ReserveOutcome> {
    const existing = await manager.findOneBy(Reservation, { orderId });
    // stock held (or shipped) for the order already is answered as it is, whatever the deadline: the saga must hear
    // of stock it has to give back; otherwise lateness is said first (after a release too), as payments does
    const expired = existing && existing.status !== ReservationStatus.Released ? undefined : expiry(deadline, now);
    if (expired) {
      const reason = `the reservation came after its deadline (${expired.deadline}); nothing was reserved`;
      await this.answer(manager, orderId, StockRejected, { orderId, reason, unavailable: [], expired });
      return { reserved: false, reason };
    }
    if (existing) {
      // a second reserve command for the same order (not a redelivery: the inbox took those)
      if (existing.status === ReservationStatus.Released) {
        const reason = 'the order’s reservation was already released';
        await this.answer(manager, orderId, StockRejected, { orderId, reason, unavailable: [] });
        return { reserved: false, reason };
      }
      await this.answer(manager, orderId, StockReserved, { orderId, items: existing.lines, total: existing.total });
      return { reserved: true, lines: existing.lines, total: existing.total };
    }

    // one line per SKU, in SKU order (a fixed lock order: no deadlocks between concurrent reservations on Postgres)
    const wanted = new Map<string, number>();
    for (const line of items) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    const lines = [...wanted]
      .map(([sku, quantity]) => ({ sku, quantity }))
      .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));

    const taken: OrderLine[] = [];
    const short: OrderLine[] = [];
    for (const line of lines) {
      if (await this.move(manager, line.sku, line.quantity, 'reserve')) taken.push(line);
      else short.push(line);
    }

    if (short.length > 0) {
      for (const line of taken) await this.move(manager, line.sku, line.quantity, 'unreserve');
      const known = await manager.findBy(
        StockItem,
        short.map((l) => ({ sku: l.sku })),
      );
      const unavailable = short.map((l) => ({
        sku: l.sku,
        requested: l.quantity,
        available: known.find((k) => k.sku === l.sku)?.available ?? 0,
      }));
      const reason = `insufficient stock for ${unavailable.map((u) => (known.some((k) => k.sku === u.sku) ? `${u.sku} (requested ${u.requested}, available ${u.available})` : `${u.sku} (unknown SKU)`)).join(', ')}`;
      await this.answer(manager, orderId, StockRejected, { orderId, reason, unavailable });
      return { reserved: false, reason };
    }

    const prices = await manager.findBy(
      StockItem,
      lines.map((l) => ({ sku: l.sku })),
    );
    const priced: PricedLine[] = lines.map((l) => ({
      ...l,
      unitPrice: prices.find((p) => p.sku === l.sku)!.unitPrice,
    }));
    const total = priced.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    await manager.insert(Reservation, {
      orderId,
      lines: priced,
      total,
      status: ReservationStatus.Reserved,
      createdAt: now,
      updatedAt: now,
    });
    await this.answer(manager, orderId, StockReserved, { orderId, items: priced, total });
    return { reserved: true, lines: priced, total };
  }

  /**
   * Compensation: gives back what is reserved for the order. Idempotent: nothing reserved, or released
   * before, changes nothing. A release that arrives before the reservation leaves a RELEASED mark so the late
   * reserve is refused instead of holding stock nobody will release. Answers stock-released unless the
   * order's stock was already committed. Returns whether it released (false: the stock had left already).
   */
  async release(manager: EntityManager, orderId: string, reason: string): Promise<boolean> {
    const existing = await manager.findOneBy(Reservation, { orderId });
    const now = Date.now();
    if (!existing) {
      await manager.insert(Reservation, {
        orderId,
        lines: [],
        total: 0,
        status: ReservationStatus.Released,
        createdAt: now,
        updatedAt: now,
      });
    } else if (existing.status === ReservationStatus.Committed) {
      this.logger.warn(`release of order ${orderId} (${reason}) ignored: its stock was already committed`);
      return false;
    } else if (existing.status === ReservationStatus.Reserved) {
      for (const line of existing.lines) await this.move(manager, line.sku, line.quantity, 'unreserve');
      await manager.update(Reservation, { orderId }, { status: ReservationStatus.Released, updatedAt: now });
    }
    await this.answer(manager, orderId, StockReleased, { orderId });
    return true;
  }

  /** The order is confirmed: its reserved units leave the warehouse. A no-op unless the order holds a reservation. */
  async commit(manager: EntityManager, orderId: string): Promise<boolean> {
    const existing = await manager.findOneBy(Reservation, { orderId });
    if (existing?.status !== ReservationStatus.Reserved) {
      if (existing?.status !== ReservationStatus.Committed)
        this.logger.warn(
          `commit of order ${orderId} ignored: ${existing ? 'its reservation was released' : 'nothing is reserved for it'}`,
        );
      return false;
    }
    for (const line of existing.lines) await this.move(manager, line.sku, line.quantity, 'ship');
    await manager.update(Reservation, { orderId }, { status: ReservationStatus.Committed, updatedAt: Date.now() });
    return true;
  }

  /** The catalogue with its counts, read in a transaction of its own (on SQLite: not inside a running one). */
  list(): Promise<StockItem[]> {
    return runInTransaction(this.dataSource, (m) => m.find(StockItem, { order: { sku: 'ASC' } }));
  }

  findReservation(orderId: string): Promise<Reservation | null> {
    return runInTransaction(this.dataSource, (m) => m.findOneBy(Reservation, { orderId }));
  }

  /** One conditional UPDATE; true when the row changed (the guard held). */
  /**
   * Adds `quantity` units to a SKU's available stock in one conditional UPDATE, outside any saga transaction: it
   * never races a reservation or another restock, and never takes `available` past MAX_STOCK (the stock columns
   * are 32-bit integers on Postgres, which refused more as "integer out of range"). 'unknown' for a SKU the
   * catalogue does not have; 'full' with what is available when the units would not fit.
   */
  async restock(
    sku: string,
    quantity: number,
  ): Promise<StockItem | { refused: 'unknown' } | { refused: 'full'; available: number }> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(StockItem)
      .set({ available: () => 'available + :quantity' })
      .where('sku = :sku AND available <= :room')
      .setParameters({ sku, quantity, room: MAX_STOCK - quantity })
      .execute();
    const item = await this.dataSource.manager.findOneBy(StockItem, { sku });
    if (!item) return { refused: 'unknown' };
    if (result.affected !== 1) return { refused: 'full', available: item.available };
    this.logger.log(`restocked ${sku}: ${quantity} units`);
    return item;
  }

  private async move(
    manager: EntityManager,
    sku: string,
    quantity: number,
    kind: 'reserve' | 'unreserve' | 'ship',
  ): Promise<boolean> {
    const qb = manager.createQueryBuilder().update(StockItem).setParameters({ sku, quantity });
    const result =
      kind === 'reserve'
        ? await qb
            .set({ available: () => 'available - :quantity', reserved: () => 'reserved + :quantity' })
            .where('sku = :sku AND available >= :quantity')
            .execute()
        : kind === 'unreserve'
          ? await qb
              .set({ available: () => 'available + :quantity', reserved: () => 'reserved - :quantity' })
              .where('sku = :sku AND reserved >= :quantity')
              .execute()
          : await qb
              .set({ reserved: () => 'reserved - :quantity' })
              .where('sku = :sku AND reserved >= :quantity')
              .execute();
    if (result.affected === undefined) throw new Error('the database driver does not report affected rows');
    if (kind !== 'reserve' && result.affected !== 1)
      throw new Error(
        `stock of ${sku} does not hold the ${quantity} reserved units being ${kind === 'ship' ? 'committed' : 'released'}`,
      );
    return result.affected === 1;
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
