// How RabbitMQ refuses a queue.declare (channel.close for queue.declare, 50.10), for the expectations of the
// queue-argument scenarios: the texts are rabbit_amqqueue's and rabbit_misc:assert_args_equivalence's.

import { closeOutcome } from './outcomes';

/** queue.declare refused with `code` and `text`. */
export const declareRefused = (code: number, text: string) => closeOutcome('channel', code, 50, 10, text);

/** A redeclaration whose argument `arg` differs from the queue's (406). */
export const inequivalent = (arg: string, q: string, detail: string) =>
  declareRefused(406, `PRECONDITION_FAILED - inequivalent arg '${arg}' for queue '${q}' in vhost '/': ${detail}`);

/** An argument whose value RabbitMQ refuses (406). */
export const invalidArg = (arg: string, q: string, problem: string) =>
  declareRefused(406, `PRECONDITION_FAILED - invalid arg '${arg}' for queue '${q}' in vhost '/': ${problem}`);

/** A field value of an exact type in amqplib's {'!': type, value} notation. */
export const amqplibTyped = (type: string, value: unknown) => ({ '!': type, value });
