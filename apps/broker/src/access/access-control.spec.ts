import { AccessControl } from './access-control';
import { DefinitionsError, parseDefinitions, applyAccessDefinitions, argumentsTable } from './definitions-file';

describe('AccessControl', () => {
  it("starts as RabbitMQ does: guest/guest, administrator, everything on '/', loopback only", () => {
    const access = AccessControl.withDefaults();
    const guest = access.authenticate('guest', 'guest', '127.0.0.1');
    expect(guest).toMatchObject({ name: 'guest', tags: ['administrator'] });
    expect(access.authenticate('guest', 'guest', '::1')).toMatchObject({ name: 'guest' });
    expect(access.authenticate('guest', 'guest', '::ffff:127.0.0.1')).toMatchObject({ name: 'guest' });
    expect(access.authenticate('guest', 'guest', '10.0.0.5')).toBe('loopback only');
    expect(access.authenticate('guest', 'guest', '::ffff:10.0.0.5')).toBe('loopback only');
    expect(access.authenticate('guest', 'wrong', '127.0.0.1')).toBe('wrong password');
    expect(access.authenticate('nobody', 'guest', '127.0.0.1')).toBe('unknown user');
    expect(access.mayAccessVhost('guest', '/')).toBe(true);
  });

  it('lets guest in from anywhere once loopback users is empty (--loopback-users none)', () => {
    const access = AccessControl.withDefaults([]);
    expect(access.authenticate('guest', 'guest', '10.0.0.5')).toMatchObject({ name: 'guest' });
  });

  it('matches permissions as RabbitMQ does: unanchored, the empty expression allows nothing', () => {
    const access = AccessControl.withDefaults();
    access.addVhost('v');
    access.putUser('u', { password: 'p' });
    access.setPermission('v', 'u', { configure: 'abc', write: '^wr-.*$', read: '' });
    expect(access.permits('u', 'v', 'configure', 'xabcx')).toBe(true);
    expect(access.permits('u', 'v', 'configure', 'ab')).toBe(false);
    expect(access.permits('u', 'v', 'write', 'wr-1')).toBe(true);
    expect(access.permits('u', 'v', 'write', 'x-wr-1')).toBe(false);
    expect(access.permits('u', 'v', 'read', '')).toBe(false);
    expect(access.permits('u', 'v', 'read', 'anything')).toBe(false);
    expect(access.permits('u', '/', 'configure', 'abc')).toBe(false); // no entry in '/'
    expect(access.mayAccessVhost('u', 'v')).toBe(true); // an entry that allows nothing still opens the vhost
    expect(access.mayAccessVhost('u', '/')).toBe(false);
    access.deleteUser('u');
    expect(access.mayAccessVhost('u', 'v')).toBe(false);
  });
});

describe('RabbitMQ definitions', () => {
  // as `rabbitmqctl export_definitions` wrote them on RabbitMQ 3.10.8 (user warren-hash-probe, password s3cret)
  const exported = {
    rabbit_version: '3.10.8',
    users: [
      {
        name: 'warren-hash-probe',
        password_hash: 'J+5hdQ/CE1WIp5F5vYBC3e3BG1wUBA30nI8LHt9LaIs6zoGg',
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: ['monitoring', 'policymaker'],
        limits: {},
      },
    ],
    vhosts: [{ name: '/', limits: [], metadata: { description: 'Default virtual host', tags: [] } }, { name: 'shop' }],
    permissions: [{ user: 'warren-hash-probe', vhost: 'shop', configure: '.*', write: '.*', read: '.*' }],
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: [],
    queues: [
      {
        name: 'orders',
        vhost: 'shop',
        durable: true,
        auto_delete: false,
        arguments: { 'x-message-ttl': 60000, 'x-dead-letter-exchange': 'dlx' },
      },
    ],
    exchanges: [
      { name: 'dlx', vhost: 'shop', type: 'fanout', durable: true, auto_delete: false, internal: false, arguments: {} },
    ],
    bindings: [],
  };

  it('loads users exported by RabbitMQ with their password hashes, tags and permissions', () => {
    const access = AccessControl.withDefaults();
    applyAccessDefinitions(access, parseDefinitions(exported));
    expect(access.authenticate('warren-hash-probe', 's3cret', '10.1.2.3')).toMatchObject({
      tags: ['monitoring', 'policymaker'],
    });
    expect(access.mayAccessVhost('warren-hash-probe', 'shop')).toBe(true);
    expect(access.vhosts.get('/')?.description).toBe('Default virtual host');
  });

  it('types JSON arguments as RabbitMQ imports them (integers as long)', () => {
    const table = argumentsTable(exported.queues[0].arguments);
    expect(table.get('x-message-ttl')).toEqual({ type: 'l', value: 60000 });
    expect(table.get('x-dead-letter-exchange')).toEqual({ type: 'S', value: 'dlx' });
  });

  it.each([
    [[], 'definitions must be a JSON object'],
    [{ users: {} }, "'users' must be a list"],
    [
      { users: [{ name: 'a', password_hash: 'x', hashing_algorithm: 'bcrypt' }] },
      "users[0].hashing_algorithm 'bcrypt' is not supported",
    ],
    [{ users: [{ password_hash: 'x' }] }, 'users[0].name must be a string'],
    [
      { vhosts: [{ name: 'v' }], permissions: [{ user: 'u', vhost: 'v', configure: '(', write: '', read: '' }] },
      'permissions[0].configure is not a valid regular expression',
    ],
    [
      { queues: [{ name: 'q', vhost: 'elsewhere' }] },
      "queues[0] names vhost 'elsewhere', which the definitions do not declare",
    ],
    [
      { vhosts: [{ name: '/' }], bindings: [{ source: 'a', vhost: '/', destination: 'b', destination_type: 'topic' }] },
      "bindings[0].destination_type must be 'queue' or 'exchange'",
    ],
    [
      {
        vhosts: [{ name: '/' }],
        policies: [{ vhost: '/', name: 'p', pattern: '.*', definition: { 'max-priority': 5 } }],
      },
      "policies[0]: unrecognised key 'max-priority'",
    ],
  ])('refuses malformed definitions with the path of the bad entry (%#)', (doc, message) => {
    expect(() => parseDefinitions(doc)).toThrow(DefinitionsError);
    expect(() => parseDefinitions(doc)).toThrow(message);
  });
});
