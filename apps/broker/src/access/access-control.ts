import { isLoopback } from '../connection/auth';
import { checkPassword, DEFAULT_HASHING, HashingAlgorithm, hashPassword } from './password';

/**
 * Users, virtual hosts and permissions, as RabbitMQ has them (its internal auth backend):
 *
 * - a user has a password hash in RabbitMQ's format and tags (`administrator`, `monitoring`, `management`,
 *   `policymaker`); the AMQP side ignores tags, the management API reads them;
 * - a permission gives one user three regular expressions in one vhost: `configure` (declare, delete),
 *   `write` (publish to, bind to) and `read` (consume, get, purge, bind from). A resource name is allowed when
 *   the expression matches it anywhere (RabbitMQ uses re:run unanchored; `^…$` anchors it); the empty
 *   expression allows nothing;
 * - a user listed in loopback users may only connect from the local machine (`guest` by default).
 */
export interface UserRecord {
  name: string;
  passwordHash: string;
  hashingAlgorithm: HashingAlgorithm;
  tags: string[];
}

export interface VhostRecord {
  name: string;
  description: string;
  tags: string[];
}

export interface Permission {
  configure: string;
  write: string;
  read: string;
}

export type PermissionKind = keyof Permission;

/** A compiled expression: null allows nothing, ANY (the usual '.*') everything without running a regex. */
type Matcher = RegExp | null | typeof ANY;
const ANY = 'any';

interface Compiled {
  source: Permission;
  configure: Matcher;
  write: Matcher;
  read: Matcher;
}

/** Why a login failed: the log says which; the client is told only that it was refused, as RabbitMQ does. */
export type LoginRefusal = 'unknown user' | 'wrong password' | 'loopback only';

function compile(permission: Permission): Compiled {
  // an empty expression matches nothing in RabbitMQ (it short-cuts "" to deny)
  const re = (source: string): Matcher => (source === '' ? null : source === '.*' ? ANY : new RegExp(source, 'u'));
  return {
    source: permission,
    configure: re(permission.configure),
    write: re(permission.write),
    read: re(permission.read),
  };
}

/** The name a permission check sees: RabbitMQ checks the default exchange '' as amq.default. */
export function resourceName(type: 'queue' | 'exchange', name: string): string {
  return type === 'exchange' && name === '' ? 'amq.default' : name;
}

export class AccessControl {
  readonly users = new Map<string, UserRecord>();
  readonly vhosts = new Map<string, VhostRecord>();
  /** vhost → user → compiled permission. */
  private readonly permissions = new Map<string, Map<string, Compiled>>();
  loopbackUsers: Set<string>;

  /** RabbitMQ's first boot: user guest/guest (administrator), vhost '/', guest allowed everything there. */
  static withDefaults(loopbackUsers: Iterable<string> = ['guest']): AccessControl {
    const access = new AccessControl(loopbackUsers);
    access.addVhost('/', 'Default virtual host');
    access.putUser('guest', { password: 'guest' }, ['administrator']);
    access.setPermission('/', 'guest', { configure: '.*', write: '.*', read: '.*' });
    return access;
  }

  constructor(loopbackUsers: Iterable<string> = ['guest']) {
    this.loopbackUsers = new Set(loopbackUsers);
  }

  addVhost(name: string, description = '', tags: string[] = []): void {
    this.vhosts.set(name, { name, description, tags });
    if (!this.permissions.has(name)) this.permissions.set(name, new Map());
  }

  deleteVhost(name: string): void {
    this.vhosts.delete(name);
    this.permissions.delete(name);
  }

  /** Adds or replaces a user, from a password or a hash in RabbitMQ's format. */
  putUser(
    name: string,
    secret: { password: string } | { passwordHash: string; hashingAlgorithm?: HashingAlgorithm },
    tags: string[] = [],
  ): void {
    const record: UserRecord =
      'password' in secret
        ? { name, passwordHash: hashPassword(secret.password), hashingAlgorithm: DEFAULT_HASHING, tags }
        : {
            name,
            passwordHash: secret.passwordHash,
            hashingAlgorithm: secret.hashingAlgorithm ?? DEFAULT_HASHING,
            tags,
          };
    this.users.set(name, record);
  }

  deleteUser(name: string): void {
    this.users.delete(name);
    for (const perUser of this.permissions.values()) perUser.delete(name);
  }

  setPermission(vhost: string, user: string, permission: Permission): void {
    let perUser = this.permissions.get(vhost);
    if (!perUser) this.permissions.set(vhost, (perUser = new Map()));
    perUser.set(user, compile(permission));
  }

  clearPermission(vhost: string, user: string): void {
    this.permissions.get(vhost)?.delete(user);
  }

  /** Every permission, as definitions list them. */
  listPermissions(): (Permission & { user: string; vhost: string })[] {
    const out: (Permission & { user: string; vhost: string })[] = [];
    for (const [vhost, perUser] of this.permissions)
      for (const [user, p] of perUser) out.push({ user, vhost, ...p.source });
    return out;
  }

  authenticate(username: string, password: string, remoteAddress: string | undefined): UserRecord | LoginRefusal {
    const user = this.users.get(username);
    if (!user) return 'unknown user';
    if (!checkPassword(password, user.passwordHash, user.hashingAlgorithm)) return 'wrong password';
    if (this.loopbackUsers.has(username) && !isLoopback(remoteAddress)) return 'loopback only';
    return user;
  }

  /** A user may open a connection to a vhost where it has a permission entry (even one that allows nothing). */
  mayAccessVhost(user: string, vhost: string): boolean {
    return this.permissions.get(vhost)?.has(user) ?? false;
  }

  /** Whether `user` may do `kind` to the resource called `name` in `vhost`. */
  permits(user: string, vhost: string, kind: PermissionKind, name: string): boolean {
    const matcher = this.permissions.get(vhost)?.get(user)?.[kind];
    if (!matcher) return false;
    return matcher === ANY || matcher.test(name);
  }
}
