import { decodeFieldTable } from '@warren/amqp-protocol';

export interface Credentials {
  username: string;
  password: string;
}

export const MECHANISMS = ['PLAIN', 'AMQPLAIN'];

/**
 * Reads the client's credentials from connection.start-ok's response.
 * PLAIN (RFC 4616): authzid NUL authcid NUL password. AMQPLAIN: a field table without its length prefix,
 * holding LOGIN and PASSWORD.
 */
export function parseCredentials(mechanism: string, response: Buffer): Credentials | undefined {
  if (mechanism === 'PLAIN') {
    const parts = response.toString('utf8').split('\u0000');
    if (parts.length !== 3) return undefined;
    return { username: parts[1], password: parts[2] };
  }
  if (mechanism === 'AMQPLAIN') {
    const framed = Buffer.alloc(response.length + 4);
    framed.writeUInt32BE(response.length, 0);
    response.copy(framed, 4);
    try {
      const { table } = decodeFieldTable(framed, 0);
      const login = table.get('LOGIN');
      const password = table.get('PASSWORD');
      if (login?.type !== 'S' || password?.type !== 'S') return undefined;
      return { username: login.value, password: password.value };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
