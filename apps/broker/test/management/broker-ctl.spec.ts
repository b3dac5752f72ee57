// npm run broker:ctl: rabbitmqctl's commands and output over the management API, against the bundled broker.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunningBroker, startBroker } from '../../src/testing';

const script = resolve(__dirname, '../../../../tools/scripts/broker-ctl.mjs');

describe('broker:ctl', () => {
  let broker: RunningBroker;
  const dir = mkdtempSync(join(tmpdir(), 'warren-ctl-'));

  beforeAll(async () => {
    broker = await startBroker({ managementPort: 0 });
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // asynchronously: the broker runs in this process and must answer while the CLI waits
  const ctl = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((done) => {
      const url = `http://guest:guest@127.0.0.1:${broker.broker.managementPort}`;
      execFile(process.execPath, [script, '--url', url, ...args], { encoding: 'utf8' }, (error, out, err) =>
        done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, out, err }),
      );
    });

  it('adds a user, a vhost and permissions, lists them as rabbitmqctl does, and deletes them', async () => {
    expect(await ctl('add_user', 'ctl-user', 's3cret')).toMatchObject({
      code: 0,
      out: expect.stringContaining('Adding user "ctl-user" ...'),
    });
    expect(await ctl('set_user_tags', 'ctl-user', 'monitoring')).toMatchObject({ code: 0 });
    expect(await ctl('add_vhost', 'ctl-vhost')).toMatchObject({ code: 0, out: 'Adding vhost "ctl-vhost" ...\n' });
    expect(await ctl('-p', 'ctl-vhost', 'set_permissions', 'ctl-user', '^ctl-', '.*', '.*')).toMatchObject({ code: 0 });
    expect((await ctl('list_users')).out).toBe(
      'Listing users ...\nuser\ttags\nctl-user\t[monitoring]\nguest\t[administrator]\n',
    );
    expect((await ctl('-q', '--no-table-headers', 'list_vhosts')).out).toBe('/\nctl-vhost\n');
    expect((await ctl('-q', '-p', 'ctl-vhost', 'list_permissions')).out).toBe(
      'user\tconfigure\twrite\tread\nctl-user\t^ctl-\t.*\t.*\n',
    );
    // the new user logs in with its password (over the API: whoami answers as it)
    const response = await fetch(`http://127.0.0.1:${broker.broker.managementPort}/api/whoami`, {
      headers: { authorization: `Basic ${Buffer.from('ctl-user:s3cret').toString('base64')}` },
    });
    expect(await response.json()).toEqual({ name: 'ctl-user', tags: ['monitoring'] });
    expect(await ctl('-p', 'ctl-vhost', 'clear_permissions', 'ctl-user')).toMatchObject({ code: 0 });
    expect(await ctl('delete_user', 'ctl-user')).toMatchObject({ code: 0 });
    expect(await ctl('delete_vhost', 'ctl-vhost')).toMatchObject({ code: 0 });
    expect((await ctl('-q', '--no-table-headers', 'list_vhosts')).out).toBe('/\n');
  });

  it('sets, lists and clears a policy', async () => {
    expect(
      await ctl('--priority', '3', '--apply-to', 'queues', 'set_policy', 'ctl-limit', '^ctl-', '{"max-length":10}'),
    ).toMatchObject({ code: 0 });
    expect((await ctl('-q', 'list_policies')).out).toBe(
      'vhost\tname\tpattern\tapply-to\tdefinition\tpriority\n/\tctl-limit\t^ctl-\tqueues\t{"max-length":10}\t3\n',
    );
    expect(await ctl('set_policy', 'bad', '.*', 'not json')).toMatchObject({ code: 64 });
    expect(await ctl('set_policy', 'bad', '.*', '{"max-priority":10}')).toMatchObject({
      code: 70,
      err: expect.stringContaining("unrecognised key 'max-priority'"),
    });
    expect(await ctl('clear_policy', 'ctl-limit')).toMatchObject({ code: 0 });
    expect((await ctl('-q', '--no-table-headers', 'list_policies')).out).toBe('');
  });

  it('lists queues with the columns asked for, and exports and imports definitions', async () => {
    const file = join(dir, 'definitions.json');
    writeFileSync(
      file,
      JSON.stringify({
        vhosts: [{ name: '/' }],
        queues: [{ name: 'ctl-q', vhost: '/', durable: true, auto_delete: false, arguments: {} }],
      }),
    );
    expect(await ctl('import_definitions', file)).toMatchObject({ code: 0 });
    expect((await ctl('-q', 'list_queues', 'name', 'messages', 'consumers')).out).toBe(
      'name\tmessages\tconsumers\nctl-q\t0\t0\n',
    );
    const out = join(dir, 'out.json');
    expect(await ctl('export_definitions', out)).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(out, 'utf8')).queues.map((q: { name: string }) => q.name)).toEqual(['ctl-q']);
  });

  it('exits as rabbitmqctl does: 64 for bad usage, 69 when the API is unreachable, 70 when it refuses', async () => {
    expect(await ctl('no_such_command')).toMatchObject({
      code: 64,
      err: expect.stringContaining("unknown command 'no_such_command'"),
    });
    expect(await ctl('add_user', 'only-a-name')).toMatchObject({
      code: 64,
      err: 'broker:ctl: add_user takes username password\n',
    });
    expect(await ctl('delete_user', 'nobody')).toMatchObject({ code: 70, err: expect.stringContaining('404') });
    expect(await ctl('add_user', 'guest', 'x')).toMatchObject({
      code: 70,
      err: 'Error: user "guest" already exists\n',
    });
    const unreachable = await new Promise<{ code: number; err: string }>((done) =>
      execFile(
        process.execPath,
        [script, '--url', 'http://guest:guest@127.0.0.1:1', 'list_users'],
        { encoding: 'utf8' },
        (error, _out, err) => done({ code: Number((error as { code?: unknown } | null)?.code ?? 0), err }),
      ),
    );
    expect(unreachable).toMatchObject({ code: 69, err: expect.stringContaining('unable to reach the management API') });
  });
});
