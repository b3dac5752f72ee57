import { z } from 'zod';

/*
 * The dead-letters API (GET /api/dead-letters, GET /api/dead-letters/:queue, POST …/:queue/replay,
 * POST …/:queue/purge): the requests the server validates and the answers the web app reads. zod only, so the
 * browser bundle can import it.
 */

/**
 * A queue name as the console accepts it in a path: what Warren's queues are made of (letters, digits, dots,
 * dashes, underscores, colons), at most 255 characters (AMQP's short string). Anything else is refused before
 * it reaches the broker.
 */
export const QueueName = z
  .string()
  .min(1, 'a queue name is required')
  .max(255, 'a queue name has at most 255 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'a queue name may hold only letters, digits and . _ : -');

/** A message id to replay or purge (the AMQP message-id property, a short string). */
const MessageId = z
  .string({ error: 'each id must be a string' })
  .min(1, 'an id cannot be empty')
  .max(255, 'an id has at most 255 characters');
const Ids = z
  .array(MessageId, { error: 'ids must be a list of message ids' })
  .min(1, 'ids needs at least one message id')
  .max(1000, 'at most 1000 ids at a time');

export const DeadLetterParams = z.strictObject({ queue: QueueName });

/** `?limit=`: digits only, 1 to 1000, default 100. */
export const ParkedListQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'limit must be a whole number from 1 to 1000')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, 'limit must be a whole number from 1 to 1000')
        .max(1000, 'limit must be a whole number from 1 to 1000'),
    )
    .default(100),
});

/**
 * Replay: the given messages, or every parked one when `ids` is left out (`{}`). The body must be a JSON object
 * even then: a request without one (a stray form post) replays nothing.
 */
export const ReplayRequest = z.strictObject(
  { ids: Ids.optional() },
  { error: 'the body must be a JSON object: { "ids": [...] } for some messages, {} for all' },
);
export type ReplayRequest = z.infer<typeof ReplayRequest>;

/**
 * Purge: the given messages, or every parked one with an explicit `all: true`. Exactly one of the two, so that an
 * empty or mistyped body can never wipe a queue.
 */
export const PurgeRequest = z
  .strictObject(
    { ids: Ids.optional(), all: z.literal(true, { error: 'all must be true (or left out)' }).optional() },
    { error: 'the body must be a JSON object: { "ids": [...] } for some messages, { "all": true } for all' },
  )
  .refine((b) => (b.ids === undefined) !== (b.all === undefined), {
    message: 'give either ids (the messages to purge) or all: true (every parked message), not both or neither',
  });
export type PurgeRequest = z.infer<typeof PurgeRequest>;

/** One dead-letter queue as the list shows it. */
export const DeadLetterQueueSummary = z.object({
  /** The DLQ's own name, `<work queue>.dlq`. */
  queue: z.string(),
  workQueue: z.string(),
  /** Whether the work queue still exists (a replay needs it). */
  workQueueExists: z.boolean(),
  ready: z.number(),
  /** Held by a client at that moment (a listing in progress puts them back). */
  unacked: z.number(),
});
export type DeadLetterQueueSummary = z.infer<typeof DeadLetterQueueSummary>;

export const DeadLetterQueueList = z.object({ vhost: z.string(), queues: z.array(DeadLetterQueueSummary) });
export type DeadLetterQueueList = z.infer<typeof DeadLetterQueueList>;

/** A parked message as the library reads it (ParkedMessage in @warren/messaging), byte-array headers as base64. */
export const ParkedMessageJson = z.object({
  messageId: z.string().optional(),
  type: z.string().optional(),
  correlationId: z.string().optional(),
  /** 'retries-exhausted' | 'non-retryable' | 'invalid' | 'no-handler' | 'delivery_limit', or the broker's x-death reason */
  reason: z.string().optional(),
  error: z
    .object({ name: z.string().optional(), message: z.string().optional(), stack: z.array(z.string()) })
    .optional(),
  attempts: z.number().optional(),
  /** Deliveries that ended without a settle (a consumer that crashed each time), when the library counted them. */
  deliveries: z.number().optional(),
  /** What the broker recorded each time it dead-lettered the message (x-death), newest first. */
  deaths: z.array(
    z.object({
      queue: z.string().optional(),
      reason: z.string().optional(),
      count: z.number().optional(),
      exchange: z.string().optional(),
      routingKeys: z.array(z.string()),
      time: z.string().optional(),
    }),
  ),
  replayCount: z.number(),
  originalExchange: z.string().optional(),
  originalRoutingKey: z.string().optional(),
  originalQueue: z.string().optional(),
  deadLetteredAt: z.string().optional(),
  publishedAt: z.string().optional(),
  contentType: z.string().optional(),
  size: z.number(),
  headers: z.record(z.string(), z.unknown()),
  payload: z.unknown(),
  payloadFormat: z.enum(['json', 'text', 'binary']),
});
export type ParkedMessageJson = z.infer<typeof ParkedMessageJson>;

export const ParkedList = z.object({
  queue: z.string(),
  workQueue: z.string(),
  /** Messages in the DLQ (at least as many as listed; `messages` stops at the limit). */
  count: z.number(),
  messages: z.array(ParkedMessageJson),
});
export type ParkedList = z.infer<typeof ParkedList>;

export const ReplayResponse = z.object({ replayed: z.number(), notFound: z.array(z.string()) });
export type ReplayResponse = z.infer<typeof ReplayResponse>;

export const PurgeResponse = z.object({ purged: z.number() });
export type PurgeResponse = z.infer<typeof PurgeResponse>;

/** A replay the broker refused part way (502): what went back before it stopped. */
export const ReplayFailure = z.object({
  statusCode: z.literal(502),
  error: z.string(),
  message: z.string(),
  replayed: z.number(),
});
export type ReplayFailure = z.infer<typeof ReplayFailure>;
