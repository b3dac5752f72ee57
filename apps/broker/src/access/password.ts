import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// RabbitMQ's password hashes, as `rabbitmqctl export_definitions` writes them, so users exported from RabbitMQ
// import unchanged and ours import into RabbitMQ:
//
//   password_hash = base64( salt (4 random bytes) ++ H(salt ++ UTF-8 password) )
//
// with H named by hashing_algorithm. SHA-256 is RabbitMQ's default and ours.

export type HashingAlgorithm =
  'rabbit_password_hashing_sha256' | 'rabbit_password_hashing_sha512' | 'rabbit_password_hashing_md5';

export const DEFAULT_HASHING: HashingAlgorithm = 'rabbit_password_hashing_sha256';

const DIGESTS: Record<HashingAlgorithm, string> = {
  rabbit_password_hashing_sha256: 'sha256',
  rabbit_password_hashing_sha512: 'sha512',
  rabbit_password_hashing_md5: 'md5',
};

export function isHashingAlgorithm(name: unknown): name is HashingAlgorithm {
  return typeof name === 'string' && Object.hasOwn(DIGESTS, name);
}

function digest(algorithm: HashingAlgorithm, salt: Buffer, password: string): Buffer {
  return createHash(DIGESTS[algorithm]).update(salt).update(password, 'utf8').digest();
}

/** A salted hash of `password`, in RabbitMQ's format. */
export function hashPassword(
  password: string,
  algorithm: HashingAlgorithm = DEFAULT_HASHING,
  salt = randomBytes(4),
): string {
  return Buffer.concat([salt, digest(algorithm, salt, password)]).toString('base64');
}

/** True when `password` matches `hash`. An empty hash (RabbitMQ's "no password") matches nothing. */
export function checkPassword(password: string, hash: string, algorithm: HashingAlgorithm): boolean {
  const bytes = Buffer.from(hash, 'base64');
  if (bytes.length <= 4) return false;
  const expected = Buffer.concat([bytes.subarray(0, 4), digest(algorithm, bytes.subarray(0, 4), password)]);
  return expected.length === bytes.length && timingSafeEqual(expected, bytes);
}
