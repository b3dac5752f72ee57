import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type ChannelModel } from 'amqplib';
import { DeadLetterQueue, Messaging, NonRetryableError, type QueueType } from '../src';
import { formatTable } from '../src/dlq/dlq-format';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { bundledChild, repositoryRoot as root } from './support/child-bundle';

// the consumer runs in a process that kills itself on the poison message
const childBundle = bundledChild('libs/messaging/test/fixtures/poison-child.ts');

const LIMIT = 2;

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<NodeJS.Signals | null>;
  /** Resolves with the first line matching `re`; rejects if the process exits first. */
  line(re: RegExp): Promise<string>;
}

function startChild(config: {
  url: string;
  queue: string;
  eventsExchange: string;
  queueType: QueueType;
  deliveryLimit: number;
}): Child {
  const child = spawn(process.execPath, [childBundle], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POISON_CHILD_CONFIG: JSON.stringify(config) },
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const l of [...listeners]) l();
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  return {
    process: child,
    lines,
    exited,
    line: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => re.test(l));
          if (!found) return;
          listeners.delete(check);
          resolve(found);
        };
        listeners.add(check);
        check();
        void exited.then(() => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          reject(new Error(`the child exited before printing ${re}; stdout: ${lines.join(' | ')}; stderr: ${stderr}`));
        });
      }),
  };
}

describe.each(testBrokers())('poison messages ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const queues: string[] = [];
  const children: ChildProcess[] = [];
  let conn: ChannelModel;

  beforeAll(async () => {
    conn = await connect(url);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await conn.close();
    await cleanup(url, { queues, exchanges: [exchange, `${exchange}.cmd`] });
  });

  const ready = async (queue: string): Promise<number> => {
    const ch = await conn.createChannel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await ch.close();
    }
  };

  it.each(['classic', 'quorum'] as const)(
    'parks a message that kills its consumer process every time in <queue>.dlq after the delivery limit (%s queue)',
    async (queueType) => {
      const queue = uniqueName(`poison-${queueType}`);
      queues.push(queue);
      const config = { url, queue, eventsExchange: exchange, queueType, deliveryLimit: LIMIT };
      const publisher = new Messaging({
        url,
        serviceName: 'poison-publisher',
        eventsExchange: exchange,
        commandsExchange: `${exchange}.cmd`,
        delayedMessages: 'ttl-queues',
      });
      await publisher.start();
      let crashes = 0;
      let parkedBy: 'the consumer' | 'the broker' | undefined;
      let messageId = '';
      try {
        for (let run = 0; parkedBy === undefined; run++) {
          // a bound the library must keep: never an endless loop
          expect(run).toBeLessThanOrEqual(LIMIT + 1);
          const child = startChild(config);
          children.push(child.process);
          // later runs get the message as soon as they subscribe (and may die before saying so)
          if (run === 0) await child.line(/^consuming$/);
          if (run === 0)
            messageId = (
              await publisher.publish({
                exchange: '',
                routingKey: queue,
                type: 'poison.pill',
                payload: { poison: true },
              })
            ).messageId;
          const outcome = await Promise.race([
            child.exited.then(() => 'crashed' as const),
            child.line(/^dead-lettered /).then(() => 'parked' as const),
          ]);
          if (outcome === 'crashed') {
            crashes++;
            // the message is back in the work queue, or (quorum, past the limit) the broker has parked it
            const where = await eventually('the message back in the work queue or parked', async () => {
              const [work, dlq] = [await ready(queue), await ready(`${queue}.dlq`)];
              if (work + dlq > 1) throw new Error(`${work} in the queue, ${dlq} parked: a copy too many`);
              return work + dlq === 1 ? (dlq === 1 ? 'dlq' : 'queue') : undefined;
            });
            if (where === 'dlq') parkedBy = 'the broker';
          } else {
            parkedBy = 'the consumer';
            // a graceful stop: the child closes its connection, so the parked original's ack reaches the broker (an
            // empty work queue alone did not prove it: a delivered, unacked message is not counted as ready, and a
            // kill then put it back; this failed once in CI)
            child.process.kill('SIGTERM');
            await child.exited;
            await eventually('the parked original acked', async () => ((await ready(queue)) === 0 ? true : undefined));
          }
        }
      } finally {
        await publisher.close();
      }
      // the handler ran limit + 1 times, on both queue types; the quorum queue's broker parks it, a classic queue's
      // consumer does (it counts on the message)
      expect(crashes).toBe(LIMIT + 1);
      expect(parkedBy).toBe(queueType === 'quorum' ? 'the broker' : 'the consumer');
      expect(await ready(queue)).toBe(0);
      const dlq = new DeadLetterQueue(url);
      try {
        const [parked] = await dlq.list(queue);
        expect(parked).toMatchObject({ messageId, reason: 'delivery_limit', originalQueue: queue });
        if (queueType === 'classic') {
          expect(parked.deliveries).toBe(LIMIT + 1);
          expect(parked.error?.message).toBe(
            `'poison.pill' ${messageId} was delivered ${LIMIT + 1} times without being settled (its consumer crashed or lost its channel each time); the delivery limit is ${LIMIT}`,
          );
        } else {
          expect(parked.deaths[0]).toMatchObject({ reason: 'delivery_limit', queue, count: 1 });
        }
        const row = formatTable([parked]).split('\n')[1];
        expect(row).toMatch(
          queueType === 'classic'
            ? /\sdelivery_limit\s+1\s+3\s/
            : /\sdelivery_limit\s+-\s+x-death ×1\s.*dead-lettered by the broker from '/,
        );
        // replay sends it back to its work queue, clean of the count
        expect(await dlq.replay(queue)).toEqual({ replayed: 1, notFound: [] });
        await eventually('the replayed message in the work queue', async () =>
          (await ready(queue)) === 1 ? true : undefined,
        );
      } finally {
        await dlq.close();
      }
    },
  );

  it('keeps a parked message in a quorum <queue>.dlq however often it is listed (listing is no delivery)', async () => {
    const queue = uniqueName('poison-list');
    queues.push(queue);
    const m = new Messaging({
      url,
      serviceName: 'poison-list',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      queueType: 'quorum',
      deliveryLimit: LIMIT,
      delayedMessages: 'ttl-queues',
    });
    await m.consume({ queue, handlers: [{ pattern: '#', handle: () => Promise.reject(new NonRetryableError('no')) }] });
    await m.start();
    const dlq = new DeadLetterQueue(m);
    try {
      const sent = await m.publish({ exchange: '', routingKey: queue, type: 'x.y', payload: {} });
      await eventually('the message parked', async () => ((await dlq.count(queue)) === 1 ? true : undefined));
      // each list takes it without an ack and gives it back: on a quorum queue each of those is a return, which a
      // delivery limit would count (RabbitMQ 4 has one of 20 by default); more lists than that, and than ours
      for (let i = 0; i < 25; i++) expect((await dlq.list(queue)).map((p) => p.messageId)).toEqual([sent.messageId]);
      expect(await dlq.count(queue)).toBe(1);
    } finally {
      await m.close();
    }
  });
});
