// @warren/amqp-protocol: AMQP 0-9-1 framing and codecs (RabbitMQ's dialect) for the Warren broker.

export { ProtocolError } from './errors';
export { ReplyCode } from './reply-codes';
export * from './frame';
export * from './content';
export * from './field-table';
export * from './methods';
export * from './client-handshake';
export * from './generated/spec';
export { ClassId } from './generated/constants';
