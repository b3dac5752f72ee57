import { z } from 'zod';

/*
 * The console's orders API, shared by its server (validation) and its web app (types). Only zod here: the web
 * bundle imports this file, so nothing from Node or from the services' libraries may come in with it.
 */

/** A SKU as inventory names them (the orders service's own rule). */
export const SKU_PATTERN = /^SKU-\d{3,}$/;
export const MAX_QUANTITY = 1000;
export const MAX_LINES = 50;

export const OrderLineInput = z.object({
  sku: z.string().regex(SKU_PATTERN, 'a SKU looks like SKU-001'),
  quantity: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_QUANTITY, `must be at most ${MAX_QUANTITY}`),
});

/**
 * POST /api/orders: the same rules as the orders service's POST /orders (an email, 1 to 50 lines, each SKU
 * once, nothing else), so a bad order is refused here with every problem listed and never reaches it.
 */
export const PlaceOrderRequest = z
  .strictObject({
    customerEmail: z.email('must be an email address'),
    items: z
      .array(OrderLineInput)
      .min(1, 'an order has at least one item')
      .max(MAX_LINES, `an order has at most ${MAX_LINES} items`),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((line, i) => {
      if (seen.has(line.sku))
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'sku'],
          message: `${line.sku} appears twice; put the quantities on one line`,
        });
      seen.add(line.sku);
    });
  });
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

/** GET /api/orders/:id */
export const OrderIdParams = z.strictObject({ id: z.uuid('must be an order id (a UUID)') });

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';

/** A message as an order's history names it. */
export interface MessageRef {
  type: string;
  messageId: string;
  correlationId?: string;
}

/** One saga step of GET /orders/:id's history (the orders service's shape; other fields are the step's detail). */
export interface OrderStep {
  step: string;
  /** ISO-8601 */
  at: string;
  /** the delivered message that drove the step */
  message?: MessageRef;
  /** what drove it when no message did: POST /orders ('http') or the saga's deadline */
  via?: string;
  /** the messages the step published */
  sent?: MessageRef[];
  compensation?: true;
  reason?: string;
  [detail: string]: unknown;
}

/** An order as the orders service answers it (history only on GET /orders/:id and POST /orders). */
export interface Order {
  id: string;
  status: OrderStatus;
  reason?: string;
  customerEmail: string;
  items: Array<{ sku: string; quantity: number; unitPrice?: number }>;
  /** cents */
  total?: number;
  paymentId?: string;
  createdAt: string;
  updatedAt: string;
  history?: OrderStep[];
}

/** The live `orders` source: the orders service's GET /orders?limit=50. */
export interface OrderPage {
  items: Order[];
  total: number;
  limit: number;
  offset: number;
}

/** One line of the live `stock` source: inventory's GET /stock. */
export interface StockLine {
  sku: string;
  name: string;
  /** cents */
  unitPrice: number;
  available: number;
  reserved: number;
}
