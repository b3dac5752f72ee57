/**
 * Malformed protocol input. `code` is the AMQP reply code the connection should be closed with:
 * 501 frame-error for framing problems, 502 syntax-error for malformed method, content-header and
 * field-table payloads, 503 command-invalid for unknown class or method ids.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
