// rabbitmqadmin, the management CLI that ships inside Debian's rabbitmq-server package (a Python script), run
// unchanged against the bundled broker. Registered where the package is installed (CI installs it).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningBroker, startBroker } from '../../src/testing';

function findRabbitmqadmin(): string | undefined {
  const lib = '/usr/lib/rabbitmq/lib';
  if (!existsSync(lib)) return undefined;
  for (const server of readdirSync(lib)) {
    const plugins = join(lib, server, 'plugins');
    if (!existsSync(plugins)) continue;
    for (const plugin of readdirSync(plugins).filter((p) => p.startsWith('rabbitmq_management-'))) {
      const script = join(plugins, plugin, 'priv/www/cli/rabbitmqadmin');
      if (existsSync(script)) return script;
    }
  }
  return undefined;
}

const script = findRabbitmqadmin();
if (!script)
  console.warn('rabbitmqadmin not found (Debian: apt-get install rabbitmq-server): its suite is not registered');

(script ? describe : describe.skip)('rabbitmqadmin against the bundled broker', () => {
  let broker: RunningBroker;
  const dir = mkdtempSync(join(tmpdir(), 'warren-rabbitmqadmin-'));

  beforeAll(async () => {
    broker = await startBroker({ managementPort: 0 });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // asynchronously: the broker runs in this process and must answer while the script waits
  const run = (password: string, args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const all = [
        script!,
        '-H',
        '127.0.0.1',
        '-P',
        String(broker.broker.managementPort),
        '-u',
        'guest',
        '-p',
        password,
        ...args,
      ];
      execFile('python3', all, { encoding: 'utf8', timeout: 30_000 }, (error, out, err) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, out, err }),
      );
    });
  const admin = (...args: string[]) => run('guest', args);

  it('declares, publishes, gets, lists, exports, deletes and imports', async () => {
    expect(await admin('declare', 'queue', 'name=adm-q', 'durable=false')).toMatchObject({
      code: 0,
      out: 'queue declared\n',
    });
    expect(await admin('declare', 'exchange', 'name=adm-x', 'type=fanout')).toMatchObject({
      code: 0,
      out: 'exchange declared\n',
    });
    expect(await admin('declare', 'binding', 'source=adm-x', 'destination=adm-q')).toMatchObject({
      code: 0,
      out: 'binding declared\n',
    });
    expect(await admin('publish', 'exchange=adm-x', 'routing_key=k', 'payload=hello')).toMatchObject({
      code: 0,
      out: 'Message published\n',
    });
    expect(await admin('-f', 'tsv', '-q', 'list', 'queues', 'name', 'messages')).toMatchObject({
      code: 0,
      out: 'adm-q\t1\n',
    });
    const got = await admin('-f', 'tsv', '-q', 'get', 'queue=adm-q', 'ackmode=ack_requeue_false');
    expect(got.code).toBe(0);
    expect(got.out).toContain('hello');
    expect((await admin('-f', 'tsv', '-q', 'list', 'queues', 'name', 'messages')).out).toBe('adm-q\t0\n');
    expect(await admin('declare', 'user', 'name=adm-u', 'password=pw', 'tags=management')).toMatchObject({
      code: 0,
      out: 'user declared\n',
    });
    expect(
      await admin('declare', 'permission', 'vhost=/', 'user=adm-u', 'configure=.*', 'write=.*', 'read=.*'),
    ).toMatchObject({ code: 0 });
    const file = join(dir, 'export.json');
    expect((await admin('export', file)).code).toBe(0);
    expect(await admin('delete', 'queue', 'name=adm-q')).toMatchObject({ code: 0, out: 'queue deleted\n' });
    expect(await admin('delete', 'exchange', 'name=adm-x')).toMatchObject({ code: 0, out: 'exchange deleted\n' });
    expect((await admin('-f', 'tsv', '-q', 'list', 'queues', 'name')).out).toBe('');
    expect((await admin('import', file)).code).toBe(0);
    expect((await admin('-f', 'tsv', '-q', 'list', 'queues', 'name')).out).toBe('adm-q\n');
    expect((await admin('-f', 'tsv', '-q', 'list', 'users', 'name')).out.split('\n')).toContain('adm-u');
    expect(await admin('purge', 'queue', 'name=adm-q')).toMatchObject({ code: 0, out: 'queue purged\n' });
    expect((await admin('-f', 'tsv', '-q', 'list', 'bindings', 'source', 'destination')).out).toContain('adm-x\tadm-q');
  });

  it('reports what the broker refuses', async () => {
    const missing = await admin('delete', 'queue', 'name=no-such-queue');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('Not found: /api/queues/%2F/no-such-queue');
    const wrong = await run('nope', ['list', 'queues']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain('Access refused');
  });
});
