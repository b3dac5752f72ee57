import { ReplyCode } from '@warren/amqp-protocol';

/**
 * AMQP errors as data. A ChannelError closes one channel (channel.close); a ConnectionError closes the whole
 * connection (connection.close). Both carry the class and method id of the method that caused them, which the
 * connection fills in when the error was raised below the method dispatch.
 */
export abstract class AmqpError extends Error {
  /** The method that caused the error; filled in by the connection unless set explicitly with `at`. */
  classId: number | undefined;
  methodId: number | undefined;
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }

  /** Names the offending method explicitly (0, 0 for errors RabbitMQ does not attribute to a method). */
  at(classId: number, methodId: number): this {
    this.classId = classId;
    this.methodId = methodId;
    return this;
  }
}

export class ChannelError extends AmqpError {
  override readonly name = 'ChannelError';
}

export class ConnectionError extends AmqpError {
  override readonly name = 'ConnectionError';
}

/** RabbitMQ prefixes every reply text with the symbolic name of its code, e.g. "NOT_FOUND - no queue 'q'". */
const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ReplyCode).map(([name, code]) => [code, name]),
);

export function replyText(code: number, detail: string): string {
  return `${CODE_NAMES[code] ?? 'INTERNAL_ERROR'} - ${detail}`;
}

/** Reply texts travel as shortstr: at most 255 bytes of UTF-8. Long names can push a text past that. */
export function fitShortstr(text: string): string {
  if (Buffer.byteLength(text) <= 255) return text;
  let bytes = Buffer.from(text).subarray(0, 255);
  // do not cut a multi-byte character in half
  while (bytes.length > 0 && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes = bytes.subarray(0, bytes.length - 1);
  if (bytes.length > 0 && bytes[bytes.length - 1] >= 0xc0) bytes = bytes.subarray(0, bytes.length - 1);
  return bytes.toString();
}

export const notFound = (detail: string) =>
  new ChannelError(ReplyCode.NOT_FOUND, replyText(ReplyCode.NOT_FOUND, detail));
export const accessRefused = (detail: string) =>
  new ChannelError(ReplyCode.ACCESS_REFUSED, replyText(ReplyCode.ACCESS_REFUSED, detail));
export const resourceLocked = (detail: string) =>
  new ChannelError(ReplyCode.RESOURCE_LOCKED, replyText(ReplyCode.RESOURCE_LOCKED, detail));
export const preconditionFailed = (detail: string) =>
  new ChannelError(ReplyCode.PRECONDITION_FAILED, replyText(ReplyCode.PRECONDITION_FAILED, detail));
export const notImplemented = (detail: string) =>
  new ChannelError(ReplyCode.NOT_IMPLEMENTED, replyText(ReplyCode.NOT_IMPLEMENTED, detail));

export const connectionError = (code: number, detail: string) => new ConnectionError(code, replyText(code, detail));
