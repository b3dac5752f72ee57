import { spawn } from 'node:child_process';
import path from 'node:path';
import { connect } from 'amqplib';
import { Headers } from '../src';
import { cleanup, testBrokers, uniqueName } from './support/brokers';
import { bundleEntry } from '../../../tools/testing/bundle';
import { freePort } from '../../../tools/testing/ports';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'tmp/messaging-test/dlq-cli/dlq-cli.js');

beforeAll(async () => {
  // the same bundling `npm run dlq` does, once for the whole file
  await bundleEntry('libs/messaging/src/dlq/dlq-cli.ts', cli);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dlqCli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.each(testBrokers())('dlq command line ($name)', ({ url }) => {
  const queue = uniqueName('dlq-cli');
  const env = { AMQP_URL: url };

  beforeAll(async () => {
    // three messages parked the way QueueConsumer parks them
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    await ch.assertQueue(`${queue}.dlq`, { durable: true });
    for (const [i, reason] of (['non-retryable', 'retries-exhausted', 'invalid'] as const).entries()) {
      ch.sendToQueue(`${queue}.dlq`, Buffer.from(JSON.stringify({ orderId: `o-${i + 1}` })), {
        persistent: true,
        messageId: `m-${i + 1}`,
        correlationId: `c-${i + 1}`,
        type: 'payment.charge',
        contentType: 'application/json',
        timestamp: 1_700_000_000,
        headers: {
          [Headers.failureReason]: reason,
          [Headers.errorName]: 'NonRetryableError',
          [Headers.errorMessage]: `card declined ${i + 1}`,
          [Headers.errorStack]: `NonRetryableError: card declined ${i + 1}\n    at charge (payments.ts:10:5)`,
          [Headers.attempt]: i + 1,
          [Headers.originalExchange]: 'warren.events',
          [Headers.originalRoutingKey]: 'payment.charge',
          [Headers.originalQueue]: queue,
          [Headers.deadLetteredAt]: `2025-06-01T10:00:0${i}.000Z`,
        },
      });
    }
    await ch.waitForConfirms();
    await conn.close();
  });
  afterAll(() => cleanup(url, { queues: [queue] }));

  it('lists as a table with a summary, and as JSON', async () => {
    const table = await dlqCli(['list', queue], env);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^MESSAGE ID\s+TYPE\s+REASON\s+ATTEMPTS\s+DELIVERIES\s+DEAD-LETTERED AT\s+ERROR$/);
    expect(lines[1]).toMatch(
      /^m-1\s+payment\.charge\s+non-retryable\s+1\s+-\s+2025-06-01 10:00:00Z\s+NonRetryableError: card declined 1$/,
    );
    expect(lines[2]).toMatch(/^m-2\s.*retries-exhausted\s+2\s/);
    expect(lines[3]).toMatch(/^m-3\s.*invalid\s+3\s/);
    expect(lines.at(-1)).toBe(`3 messages in ${queue}.dlq`);

    const json = await dlqCli(['list', queue, '--json', '--limit', '2'], env);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ queue, deadLetterQueue: `${queue}.dlq`, count: 3 });
    expect(parsed.messages).toHaveLength(2);
    expect(parsed.messages[0]).toMatchObject({
      messageId: 'm-1',
      correlationId: 'c-1',
      reason: 'non-retryable',
      attempts: 1,
      originalRoutingKey: 'payment.charge',
      error: { name: 'NonRetryableError', message: 'card declined 1', stack: ['at charge (payments.ts:10:5)'] },
      payload: { orderId: 'o-1' },
    });
    expect((await dlqCli(['list', queue, '--limit', '1'], env)).stdout.trimEnd().split('\n').at(-1)).toBe(
      `1 of 3 messages in ${queue}.dlq (--limit for more)`,
    );
  });

  it('replays by id, and fails on an id that is not there', async () => {
    const run = await dlqCli(['replay', queue, '--id', 'm-2'], env);
    expect(run).toMatchObject({ code: 0, stdout: `replayed 1 message from ${queue}.dlq\n`, stderr: '' });
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const back = await ch.get(queue, { noAck: true });
    await conn.close();
    expect(back && back.properties).toMatchObject({
      messageId: 'm-2',
      correlationId: 'c-2',
      headers: { [Headers.attempt]: 1, [Headers.replayCount]: 1 },
    });
    expect(
      JSON.parse((await dlqCli(['list', queue, '--json'], env)).stdout).messages.map(
        (m: { messageId: string }) => m.messageId,
      ),
    ).toEqual(['m-1', 'm-3']);

    const missing = await dlqCli(['replay', queue, '--id', 'nope', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ replayed: 0, notFound: ['nope'] });
    expect(missing.stderr).toBe(`dlq: not in ${queue}.dlq: nope\n`);
  });

  it('purges everything only with --yes', async () => {
    const refused = await dlqCli(['purge', queue], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^dlq: purge without --id deletes every message in the DLQ: add --yes to confirm\n\nusage: /,
    );
    expect((await dlqCli(['count', queue], env)).stdout).toBe(`2 messages in ${queue}.dlq\n`);

    const purged = await dlqCli(['purge', queue, '--yes'], env);
    expect(purged).toMatchObject({ code: 0, stdout: `purged 2 messages from ${queue}.dlq\n` });
    expect((await dlqCli(['list', queue], env)).stdout).toBe(`${queue}.dlq is empty\n`);
  });

  it('exits 1 with one line when there is no such DLQ', async () => {
    const missing = uniqueName('no-dlq');
    const run = await dlqCli(['list', missing], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(`^dlq: no dead-letter queue '${missing.replace(/\./g, '\\.')}\\.dlq' on the broker[^\n]*\n$`),
    );
  });
});

describe('dlq command line without a broker', () => {
  it.each([
    [[], /^dlq: a command is required\n\nusage: /],
    [['frobnicate', 'q'], /^dlq: unknown command 'frobnicate'\n\nusage: /],
    [['list'], /^dlq: list needs a queue name\n/],
    [['list', 'q', '--limit', 'lots'], /^dlq: --limit needs a whole number/],
    [['list', 'q', '--id', 'x'], /^dlq: --id is for replay and purge, not list/],
    [['replay', 'q', '--force'], /^dlq: Unknown option '--force'/],
  ])('exits 2 with the usage for %j', async (args, stderr) => {
    const run = await dlqCli(args as string[]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(stderr);
    expect(run.stderr).toContain('usage: npm run dlq -- <command> <queue> [options]');
  });

  it('prints the usage for --help and exits 0', async () => {
    expect(await dlqCli(['--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^usage: npm run dlq/),
      stderr: '',
    });
  });

  it('exits 1 with one clear line when the broker is unreachable; --url wins over AMQP_URL', async () => {
    const port = await freePort();
    const run = await dlqCli(['list', 'q', '--url', `amqp://guest:secret@127.0.0.1:${port}`], {
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:1',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(
        `^dlq: cannot connect to the broker at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED [^\n]*\n$`,
      ),
    );
  });
});
