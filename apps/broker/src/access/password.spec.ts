import { checkPassword, hashPassword } from './password';

describe('password hashes in RabbitMQ format', () => {
  it('checks a hash exported by RabbitMQ 3.10 (rabbitmqctl add_user warren-hash-probe s3cret)', () => {
    const exported = 'J+5hdQ/CE1WIp5F5vYBC3e3BG1wUBA30nI8LHt9LaIs6zoGg';
    expect(checkPassword('s3cret', exported, 'rabbit_password_hashing_sha256')).toBe(true);
    expect(checkPassword('s3cret ', exported, 'rabbit_password_hashing_sha256')).toBe(false);
    expect(checkPassword('s3cret', exported, 'rabbit_password_hashing_sha512')).toBe(false);
  });

  it.each(['rabbit_password_hashing_sha256', 'rabbit_password_hashing_sha512', 'rabbit_password_hashing_md5'] as const)(
    'hashes with a fresh salt and verifies (%s)',
    (algorithm) => {
      const a = hashPassword('pässword', algorithm);
      const b = hashPassword('pässword', algorithm);
      expect(a).not.toBe(b);
      expect(checkPassword('pässword', a, algorithm)).toBe(true);
      expect(checkPassword('password', a, algorithm)).toBe(false);
    },
  );

  it('refuses every password for an empty or malformed hash', () => {
    expect(checkPassword('', '', 'rabbit_password_hashing_sha256')).toBe(false);
    expect(checkPassword('x', 'AAAA', 'rabbit_password_hashing_sha256')).toBe(false);
    expect(checkPassword('x', '!!!not base64', 'rabbit_password_hashing_sha256')).toBe(false);
  });
});
