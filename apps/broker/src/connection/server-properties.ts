import type { FieldTable, FieldValue } from '@warren/amqp-protocol';

export const PRODUCT = 'Warren';
export const VERSION = '0.1.0';

const str = (value: string): FieldValue => ({ type: 'S', value });
const yes: FieldValue = { type: 't', value: true };

/** The capabilities RabbitMQ advertises; clients switch features on by them (amqplib, the Java and .NET clients). */
const CAPABILITIES = [
  'publisher_confirms',
  'exchange_exchange_bindings',
  'basic.nack',
  'consumer_cancel_notify',
  'connection.blocked',
  'consumer_priorities',
  'authentication_failure_close',
  'per_consumer_qos',
  'direct_reply_to',
];

export function serverProperties(): FieldTable {
  return new Map<string, FieldValue>([
    ['capabilities', { type: 'F', value: new Map(CAPABILITIES.map((name) => [name, yes])) }],
    ['cluster_name', str('warren@localhost')],
    ['copyright', str('Copyright (c) the Warren authors')],
    ['information', str('Warren bundled AMQP 0-9-1 broker, see the project README')],
    ['platform', str(`Node.js ${process.version}`)],
    ['product', str(PRODUCT)],
    ['version', str(VERSION)],
  ]);
}
