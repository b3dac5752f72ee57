import { HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { BrokerUnavailableError, DeadLetterQueueNotFoundError, ReplayFailedError } from '@warren/messaging';
import type { ReplayFailure } from '../contracts/dead-letters';
import { UpstreamError } from './upstream';

/**
 * The dead-letter operations' failures as HTTP answers: no such DLQ is 404; a broker (or management API) that
 * cannot be reached is 503, since nothing was done and asking again later may work; a replay the broker refused
 * part way is 502 with how many went back before it stopped; any other refusal by the broker is 502 with its words.
 */
export function deadLetterHttpError(err: unknown): unknown {
  if (err instanceof UpstreamError) {
    return err.upstreamStatus === undefined
      ? new ServiceUnavailableException(`the broker's management API cannot be reached: ${err.message}`)
      : err;
  }
  if (err instanceof HttpException) return err;
  if (err instanceof DeadLetterQueueNotFoundError) return new NotFoundException(err.message);
  if (err instanceof ReplayFailedError) {
    const body: ReplayFailure = { statusCode: 502, error: 'Bad Gateway', message: err.message, replayed: err.replayed };
    return new HttpException(body, 502);
  }
  if (err instanceof BrokerUnavailableError) return new ServiceUnavailableException(err.message);
  const e = err as Error & { code?: unknown };
  // a channel error from the broker (403 access refused, 406 precondition failed…) is an answer, not an outage
  if (typeof e?.code === 'number')
    return new HttpException(
      { statusCode: 502, error: 'Bad Gateway', message: `the broker refused: ${e.message}` },
      502,
    );
  return err;
}
