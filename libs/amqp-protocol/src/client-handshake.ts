// The client's side of the opening handshake, for the clients built on this library (the load tool, the
// broker's raw test client): what connection.start-ok carries.
//
// PLAIN (RFC 4616) answers with one string, authzid NUL authcid NUL password; an empty authzid means "act as
// the user who logs in", which is what every AMQP client sends.

import type { ConnectionStartOkArgs } from './generated/spec';
import { tableFromPlain } from './field-table';

/** The PLAIN mechanism's response for `user` / `password`. */
export function plainResponse(user: string, password: string): Buffer {
  return Buffer.from(`\u0000${user}\u0000${password}`, 'utf8');
}

/**
 * connection.start-ok logging in as `user` with PLAIN (unless another mechanism and its response are given),
 * locale en_US, announcing `clientProperties` (plain values, typed as client libraries type them).
 */
export function startOkArgs(opts: {
  user: string;
  password: string;
  clientProperties: Record<string, unknown>;
  mechanism?: string;
  response?: Buffer;
}): ConnectionStartOkArgs {
  return {
    clientProperties: tableFromPlain(opts.clientProperties),
    mechanism: opts.mechanism ?? 'PLAIN',
    response: opts.response ?? plainResponse(opts.user, opts.password),
    locale: 'en_US',
  };
}
