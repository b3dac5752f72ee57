// What the permission scenarios need on both brokers: a vhost, a user with partial permissions in it, and
// guest with full permissions there to set the stage. On the bundled broker it is part of its access control;
// on RabbitMQ it is made with rabbitmqctl (CI runs it next to the node), and left in place for the next run.
import { spawnSync } from 'node:child_process';
import { AccessControl } from '../src/access/access-control';
import { parseUrl } from './harness';

export const PERM = {
  vhost: 'warren-compat-perm',
  user: 'warren-compat-perm',
  password: 'warren-compat-perm',
  /** What the user may configure, write and read: names that start so. */
  configure: '^cfg-',
  write: '^wr-',
  read: '^rd-',
} as const;

/** The bundled broker's users: RabbitMQ's defaults plus the permission fixture. */
export function compatAccess(): AccessControl {
  const access = AccessControl.withDefaults();
  access.addVhost(PERM.vhost);
  access.putUser(PERM.user, { password: PERM.password });
  access.setPermission(PERM.vhost, PERM.user, { configure: PERM.configure, write: PERM.write, read: PERM.read });
  access.setPermission(PERM.vhost, 'guest', { configure: '.*', write: '.*', read: '.*' });
  return access;
}

/** Creates the fixture on the local RabbitMQ node (idempotent). Throws with rabbitmqctl's output on failure. */
export function ensureRabbitFixture(): void {
  const ctl = (...args: string[]) => spawnSync('rabbitmqctl', ['-q', ...args], { encoding: 'utf8', timeout: 60_000 });
  const run = (...args: string[]) => {
    const r = ctl(...args);
    if (r.error || r.status !== 0)
      throw new Error(`rabbitmqctl ${args.join(' ')}: ${r.error?.message ?? r.stderr ?? r.stdout}`);
  };
  run('add_vhost', PERM.vhost); // succeeds when it exists already
  const users = ctl('list_users');
  if (!users.stdout?.split('\n').some((line) => line.split('\t')[0] === PERM.user))
    run('add_user', PERM.user, PERM.password);
  run('set_permissions', '-p', PERM.vhost, PERM.user, PERM.configure, PERM.write, PERM.read);
  run('set_permissions', '-p', PERM.vhost, 'guest', '.*', '.*', '.*');
}

/** The target's URL as `user` in the fixture's vhost. */
export function permUrl(targetUrl: string, user: 'perm' | 'guest'): string {
  const p = parseUrl(targetUrl);
  const [name, pass] = user === 'perm' ? [PERM.user, PERM.password] : [p.user, p.pass];
  return `amqp://${name}:${pass}@${p.host}:${p.port}/${encodeURIComponent(PERM.vhost)}`;
}
