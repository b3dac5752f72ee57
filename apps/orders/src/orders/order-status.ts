/** What clients see: an order is PENDING until the saga settles it. */
export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * Where the saga is. PENDING waits for inventory's answer to reserve-stock; STOCK_RESERVED waits for
 * payments' answer to capture-payment; CONFIRMED and CANCELLED are final.
 */
export type SagaState = 'PENDING' | 'STOCK_RESERVED' | 'CONFIRMED' | 'CANCELLED';

/** The status clients see in a saga state: the saga's transitions set it through this, never by hand. */
export function publicStatus(state: SagaState): OrderStatus {
  return state === 'CONFIRMED' || state === 'CANCELLED' ? state : 'PENDING';
}

/** What a waiting state waits for, in the words of a timeout's reason. */
export const AWAITED: Partial<Record<SagaState, string>> = {
  PENDING: 'stock reservation',
  STOCK_RESERVED: 'payment',
};
