import { tableToPlain, type FieldTable } from '@warren/amqp-protocol';

/** Field-table arguments as JSON, as RabbitMQ shows them (64-bit values past 2^53 as numbers, rounded). */
export function argumentsJson(table: FieldTable): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(tableToPlain(table), (_key, value) => (typeof value === 'bigint' ? Number(value) : value)),
  );
}
