import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { IncomingMessage } from '../core/message';
import type { MessagingLogger } from '../core/options';
import { InboxDuplicates } from '../core/telemetry';
import { InboxBusyError } from './inbox-busy.error';
import type { InboxResult } from './inbox-result';

export interface RedisInboxOptions {
  /** Keys are `<prefix>:<consumer>:<message id>`. Default `inbox`. */
  keyPrefix?: string;
  /** How long a handled message is remembered (and redeliveries skipped). Default 7 days. */
  ttlMs?: number;
  /**
   * How long a claim outlives its holder: the claim is renewed every third of it while the handler runs,
   * so it only expires when the instance died (or stalled that long). Default 30 s.
   */
  leaseMs?: number;
  logger?: MessagingLogger;
}

const DONE = 'done';
const PROCESSING = 'processing:';

/** Marks the key done if we still hold the lease; returns what it held (so a lost lease can be reported). */
const COMPLETE = `local v = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if v == ARGV[1] then return 1 end
return 0`;
/** Extends our claim while the handler runs (only if it is still ours). */
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** Deletes the key only if it is still our claim: never someone else's claim, never a done mark. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The idempotent consumer for handlers without a database (sending an e-mail, calling an API). A plain
 * `SET NX` before the handler would lose the message if the handler then failed (the key says "handled");
 * setting it after would let two instances both run it. So the key moves through two states:
 *
 *   1. claim:   SET key "processing:<token>" NX PX <leaseMs>   (who runs it; renewed while it runs)
 *   2. success: key := "done" with the long TTL                   (later deliveries are duplicates)
 *      failure: DEL key, if it is still our claim                  (the retry can claim it again)
 *
 * A delivery that finds a claim throws InboxBusyError, which is retryable: it comes back through the
 * retry queue after the other instance finished or failed. The holder renews its claim while its handler
 * runs, so a claim expires (leaseMs after the last renewal) only when its owner died or stalled.
 *
 * Redis and the handler's effect are not one transaction: a crash after the effect and before step 2
 * runs the handler again once the claim expired (at-least-once). Make such effects naturally idempotent
 * where that matters (pass the message id to the API as its idempotency key), or use the database inbox.
 */
export class RedisInbox {
  /** Taken at construction: the service's MeterProvider is registered by then (see telemetry.ts). */
  private readonly duplicates = new InboxDuplicates();
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisInboxOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? 'inbox';
    this.ttlMs = options.ttlMs ?? 7 * 24 * 3_600_000;
    this.leaseMs = options.leaseMs ?? 30_000;
    if (!(this.leaseMs > 0 && this.ttlMs >= this.leaseMs))
      throw new RangeError(`RedisInbox needs 0 < leaseMs (${this.leaseMs}) ≤ ttlMs (${this.ttlMs})`);
  }

  key(consumer: string, messageId: string): string {
    return `${this.prefix}:${consumer}:${messageId}`;
  }

  /**
   * Runs `fn` unless `consumer` already handled the message: `{ duplicate: true }` then. Throws
   * InboxBusyError while another instance holds the claim, and fn's error (after letting go) when fn fails.
   */
  async handle<T>(
    message: Pick<IncomingMessage, 'messageId'>,
    consumer: string,
    fn: () => Promise<T>,
  ): Promise<InboxResult<T>> {
    if (!message.messageId)
      throw new TypeError('the inbox needs a message id: publish with a message id (the library always sets one)');
    const key = this.key(consumer, message.messageId);
    const claim = `${PROCESSING}${randomUUID()}`;
    if (!(await this.claim(key, claim, consumer, message.messageId))) {
      this.options.logger?.log(`'${consumer}' already handled message ${message.messageId}; skipping the duplicate`);
      this.duplicates.count(message, consumer);
      return { duplicate: true };
    }
    const renewal = setInterval(
      () => {
        this.redis
          .eval(EXTEND, 1, key, claim, String(this.leaseMs))
          .catch((e: Error) => this.options.logger?.warn(`could not extend the inbox claim on ${key}: ${e.message}`));
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    renewal.unref();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      clearInterval(renewal);
      await this.redis
        .eval(RELEASE, 1, key, claim)
        .catch((e: Error) =>
          this.options.logger?.warn(
            `could not release the inbox claim on ${key}: ${e.message}; it expires in ${this.leaseMs} ms`,
          ),
        );
      throw err;
    }
    clearInterval(renewal);
    const stillOurs = await this.redis.eval(COMPLETE, 1, key, claim, DONE, String(this.ttlMs));
    if (stillOurs !== 1) {
      this.options.logger?.warn(
        `the inbox claim on ${key} lapsed while the handler ran (Redis unreachable, or the process stalled for over ${this.leaseMs} ms); another instance may have run it too`,
      );
    }
    return { duplicate: false, result };
  }

  /** Wraps a handler for `MessageHandler.handle`; a duplicate resolves undefined without calling `fn`. */
  idempotent<P = unknown, R = unknown>(
    consumer: string,
    fn: (message: IncomingMessage<P>) => Promise<R>,
  ): (message: IncomingMessage<P>) => Promise<R | undefined> {
    return async (message) => {
      const outcome = await this.handle(message, consumer, () => fn(message));
      return outcome.duplicate ? undefined : outcome.result;
    };
  }

  /** Claims the key; false when it is done (a duplicate); throws InboxBusyError when someone holds it. */
  private async claim(key: string, claim: string, consumer: string, messageId: string): Promise<boolean> {
    // Two tries: the holder may let go between our SET and our GET.
    for (let i = 0; i < 2; i++) {
      if ((await this.redis.set(key, claim, 'PX', this.leaseMs, 'NX')) === 'OK') return true;
      const current = await this.redis.get(key);
      if (current === DONE) return false;
      if (current !== null) break;
    }
    throw new InboxBusyError(consumer, messageId);
  }
}
