import { connect, type ChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../errors';
import { parseBrokerUrls, redactUrl } from '../core/broker-urls';
import type { Messaging } from '../core/messaging';

/** Where DLQ operations get a connection: a running Messaging's, or one of their own from a URL. */
export interface BrokerLink {
  model(): Promise<ChannelModel>;
  close(): Promise<void>;
}

/** Borrows a Messaging's connection (waiting for a reconnection up to `timeoutMs`); never closes it. */
export function borrowedLink(messaging: Messaging, timeoutMs: number): BrokerLink {
  return {
    model: () => messaging.connection.waitForConnection(timeoutMs),
    close: async () => undefined,
  };
}

/**
 * A plain connection of its own, opened on first use, for tools that run without a service (the CLI). `url` may
 * list several brokers separated by commas, as AMQP_URL: they are tried in order until one answers.
 * No recovery: an operation that loses its connection fails, and the broker puts back what it held.
 */
export function ownLink(url: string, timeoutMs: number, connectionName: string): BrokerLink {
  let opening: Promise<ChannelModel> | undefined;
  return {
    model() {
      opening ??= openFirstAnswering(url, timeoutMs, connectionName).then((model) => {
        model.on('error', () => undefined); // 'close' follows with the same error
        model.on('close', () => (opening = undefined));
        return model;
      });
      opening.catch(() => (opening = undefined));
      return opening;
    },
    async close() {
      const current = opening;
      opening = undefined;
      if (current) await (await current.catch(() => undefined))?.close().catch(() => undefined);
    },
  };
}

/** A connection to the first broker of `urls` (comma-separated, as AMQP_URL) that answers within `timeoutMs`. */
export async function openFirstAnswering(
  urls: string,
  timeoutMs: number,
  connectionName: string,
): Promise<ChannelModel> {
  const list = parseBrokerUrls(urls);
  const failures: string[] = [];
  for (const url of list) {
    try {
      return await openOne(url, timeoutMs, connectionName);
    } catch (err) {
      if (list.length === 1) throw err;
      failures.push((err as Error).message);
    }
  }
  throw new BrokerUnavailableError(`cannot connect to any of the ${list.length} brokers: ${failures.join('; ')}`);
}

async function openOne(url: string, timeoutMs: number, connectionName: string): Promise<ChannelModel> {
  let timer: NodeJS.Timeout | undefined;
  const attempt = connect(url, { timeout: timeoutMs, clientProperties: { connection_name: connectionName } });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (err) {
    // a connection that opens after we gave up must not keep the process alive
    void attempt.then((late) => late.close()).catch(() => undefined);
    throw new BrokerUnavailableError(`cannot connect to the broker at ${redactUrl(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}
