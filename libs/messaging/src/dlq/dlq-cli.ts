// The DLQ command line: `npm run dlq -- <command> <queue> [options]` (tools/scripts/dlq.mjs bundles this file
// and runs it). An entry point, not part of the library's API: it runs when loaded.
import { parseArgs } from 'node:util';
import { DeadLetterQueue, queueNames } from './dead-letter-queue';
import { formatTable, messages, toJson } from './dlq-format';

const DEFAULT_LIMIT = 100;
const DEFAULT_URL = 'amqp://guest:guest@localhost:5672';

const USAGE = `usage: npm run dlq -- <command> <queue> [options]

Inspect and replay <queue>.dlq, where consumers park the messages that failed for good.

commands:
  list <queue>       show the parked messages, oldest first (they stay where they are)
  count <queue>      how many messages are parked
  replay <queue>     send parked messages back to their work queue (all, or each --id)
  purge <queue>      delete parked messages (each --id, or all with --yes)

options:
  --id <messageId>   replay, purge: only this message; repeat for more
  --limit <n>        list: at most n messages (default ${DEFAULT_LIMIT})
  --json             machine-readable output
  --yes              purge: confirm deleting every parked message
  --url <url>        the broker, or several separated by commas, tried in order (default: $AMQP_URL, else amqp://guest:guest@localhost:5672)
  -h, --help         this text

exit status: 0 done; 1 failed (broker unreachable, no such DLQ, an --id to replay not found); 2 usage error`;
const COMMANDS = ['list', 'count', 'replay', 'purge'] as const;
type Command = (typeof COMMANDS)[number];

interface Invocation {
  command: Command;
  queue: string;
  ids?: string[];
  limit: number;
  json: boolean;
  url: string;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let inv: Invocation | 'help';
  try {
    inv = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError) && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true)
      throw err;
    process.stderr.write(`dlq: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (inv === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dlq = new DeadLetterQueue(inv.url, { connectionName: 'warren-dlq-cli' });
  try {
    return await run(dlq, inv);
  } catch (err) {
    process.stderr.write(`dlq: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await dlq.close();
  }
}

function parse(argv: string[]): Invocation | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      id: { type: 'string', multiple: true },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      yes: { type: 'boolean' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const [command, queue, ...extra] = positionals;
  if (!command) throw new UsageError('a command is required');
  if (!COMMANDS.includes(command as Command)) throw new UsageError(`unknown command '${command}'`);
  if (!queue) throw new UsageError(`${command} needs a queue name`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (values.id && (command === 'list' || command === 'count'))
    throw new UsageError(`--id is for replay and purge, not ${command}`);
  if (values.limit !== undefined && command !== 'list') throw new UsageError('--limit is for list');
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit needs a whole number ≥ 1, got '${values.limit}'`);
  if (command === 'purge' && !values.id && !values.yes)
    throw new UsageError(`purge without --id deletes every message in the DLQ: add --yes to confirm`);
  return {
    command: command as Command,
    queue,
    ids: values.id,
    limit,
    json: values.json ?? false,
    url: values.url ?? process.env.AMQP_URL ?? DEFAULT_URL,
  };
}

async function run(dlq: DeadLetterQueue, { command, queue, ids, limit, json }: Invocation): Promise<number> {
  const name = queueNames(queue).dlq;
  const out = (human: string, data: object) =>
    process.stdout.write(`${json ? toJson({ queue, deadLetterQueue: name, ...data }) : human}\n`);
  switch (command) {
    case 'count': {
      const count = await dlq.count(queue);
      out(`${messages(count)} in ${name}`, { count });
      return 0;
    }
    case 'list': {
      const parked = await dlq.list(queue, { limit });
      // the count after the listing: the listed messages are back by then
      const count = Math.max(await dlq.count(queue), parked.length);
      const summary =
        count === 0
          ? `${name} is empty`
          : parked.length < count
            ? `${parked.length} of ${messages(count)} in ${name} (--limit for more)`
            : `${messages(count)} in ${name}`;
      out(parked.length > 0 ? `${formatTable(parked)}\n\n${summary}` : summary, { count, messages: parked });
      return 0;
    }
    case 'replay': {
      const { replayed, notFound } = await dlq.replay(queue, { ids });
      out(`replayed ${messages(replayed)} from ${name}`, { replayed, notFound });
      if (notFound.length === 0) return 0;
      process.stderr.write(`dlq: not in ${name}: ${notFound.join(', ')}\n`);
      return 1;
    }
    case 'purge': {
      const purged = await dlq.purge(queue, { ids });
      // purging is idempotent: an id that is not there is already where the caller wants it
      out(
        `purged ${messages(purged)} from ${name}${ids ? ` (${ids.length} id${ids.length === 1 ? '' : 's'} given)` : ''}`,
        { purged },
      );
      return 0;
    }
  }
}

void main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`dlq: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
