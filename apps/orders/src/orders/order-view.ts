import type { OrderLine, PricedLine } from '@warren/contracts';
import type { Order } from './order.entity';
import type { OrderStep } from './order-step.entity';
import type { OrderStatus } from './order-status';

export interface OrderHistoryEntry {
  step: string;
  /** ISO-8601 */
  at: string;
  [detail: string]: unknown;
}

/** An order as the HTTP API shows it (docs/architecture.md: HTTP shapes the demo, e2e suites and tools rely on). */
export interface OrderView {
  id: string;
  status: OrderStatus;
  reason?: string;
  customerEmail: string;
  items: OrderLine[] | PricedLine[];
  total?: number;
  paymentId?: string;
  createdAt: string;
  updatedAt: string;
  history?: OrderHistoryEntry[];
}

export function toView(order: Order, steps?: OrderStep[]): OrderView {
  const view: OrderView = {
    id: order.id,
    status: order.status,
    customerEmail: order.customerEmail,
    items: JSON.parse(order.pricedItems ?? order.items) as OrderLine[],
    createdAt: new Date(order.createdAt).toISOString(),
    updatedAt: new Date(order.updatedAt).toISOString(),
  };
  if (order.reason) view.reason = order.reason;
  if (order.total !== null) view.total = order.total;
  if (order.paymentId) view.paymentId = order.paymentId;
  if (steps)
    view.history = steps.map((s) => ({
      ...(s.detail ? (JSON.parse(s.detail) as object) : {}),
      step: s.step,
      at: new Date(s.at).toISOString(),
    }));
  return view;
}

// OpenAPI schemas, written out: the bundle has no decorator metadata for @nestjs/swagger to read.
const line = {
  type: 'object',
  required: ['sku', 'quantity'],
  properties: {
    sku: { type: 'string', pattern: '^SKU-\\d{3,}$', example: 'SKU-001' },
    quantity: { type: 'integer', minimum: 1, maximum: 1000, example: 2 },
  },
};

const messageRef = {
  type: 'object',
  required: ['type', 'messageId', 'correlationId'],
  properties: {
    type: { type: 'string', example: 'inventory.stock-reserved' },
    messageId: { type: 'string' },
    correlationId: { type: 'string' },
  },
};

export const PlaceOrderSchema = {
  type: 'object',
  required: ['customerEmail', 'items'],
  additionalProperties: false,
  properties: {
    customerEmail: { type: 'string', format: 'email', example: 'ada@example.com' },
    items: { type: 'array', minItems: 1, maxItems: 50, items: line },
  },
};

export const OrderSchema = {
  type: 'object',
  required: ['id', 'status', 'customerEmail', 'items', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['PENDING', 'CONFIRMED', 'CANCELLED'] },
    reason: { type: 'string', example: 'out of stock: SKU-003 (requested 5, available 2)' },
    customerEmail: { type: 'string', format: 'email' },
    items: {
      type: 'array',
      items: {
        ...line,
        properties: { ...line.properties, unitPrice: { type: 'integer', description: 'cents, once priced' } },
      },
    },
    total: { type: 'integer', description: 'cents, once inventory priced the order' },
    paymentId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    history: {
      type: 'array',
      description: 'the saga steps, oldest first: PLACED, STOCK_RESERVED, CONFIRMED | CANCELLED, and compensations',
      items: {
        type: 'object',
        required: ['step', 'at'],
        properties: {
          step: { type: 'string', example: 'STOCK_RESERVED' },
          at: { type: 'string', format: 'date-time' },
          message: { ...messageRef, description: 'the delivered message that drove the step' },
          via: {
            type: 'string',
            enum: ['http', 'deadline'],
            description: 'what drove the step when no message did: POST /orders (PLACED) or the saga deadline',
          },
          sent: {
            type: 'array',
            items: messageRef,
            description: 'the messages the step published (through the outbox), by the ids consumers see',
          },
          compensation: { type: 'boolean', enum: [true], description: 'present on steps that undo part of the saga' },
        },
        additionalProperties: true,
      },
    },
  },
};

export const OrderPageSchema = {
  type: 'object',
  required: ['items', 'total', 'limit', 'offset'],
  properties: {
    items: { type: 'array', items: OrderSchema },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
  },
};

export const ErrorSchema = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};
