import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, type OnModuleDestroy } from '@nestjs/common';
import { ZodBodyPipe, ZodParamsPipe, ZodQueryPipe } from '@warren/service-kit';
import type { z } from 'zod';
import {
  DeadLetterParams,
  ParkedListQuery,
  PurgeRequest,
  ReplayRequest,
  type DeadLetterQueueList,
  type ParkedList,
  type PurgeResponse,
  type ReplayResponse,
} from '../contracts/dead-letters';
import type { ConsoleConfig } from './config';
import { deadLetterHttpError } from './dead-letter-http-errors';
import { DeadLetterOperations } from './dead-letter-operations';
import { CONFIG } from './tokens';

type Params = z.output<typeof DeadLetterParams>;

/**
 * The dead letters, as `npm run dlq` sees them (the same library code): every DLQ, its parked messages, replay
 * and purge. See contracts/dead-letters.ts for the shapes and dead-letter-http-errors.ts for the failures.
 */
@Controller('api/dead-letters')
export class DeadLettersController implements OnModuleDestroy {
  private readonly operations: DeadLetterOperations;

  constructor(@Inject(CONFIG) config: ConsoleConfig) {
    this.operations = new DeadLetterOperations(config);
  }

  @Get()
  queues(): Promise<DeadLetterQueueList> {
    return answer(this.operations.queues());
  }

  @Get(':queue')
  list(
    @Param(new ZodParamsPipe(DeadLetterParams)) { queue }: Params,
    @Query(new ZodQueryPipe(ParkedListQuery)) { limit }: z.output<typeof ParkedListQuery>,
  ): Promise<ParkedList> {
    return answer(this.operations.list(queue, limit));
  }

  @Post(':queue/replay')
  @HttpCode(200)
  replay(
    @Param(new ZodParamsPipe(DeadLetterParams)) { queue }: Params,
    @Body(new ZodBodyPipe(ReplayRequest)) body: ReplayRequest,
  ): Promise<ReplayResponse> {
    return answer(this.operations.replay(queue, body.ids));
  }

  @Post(':queue/purge')
  @HttpCode(200)
  purge(
    @Param(new ZodParamsPipe(DeadLetterParams)) { queue }: Params,
    @Body(new ZodBodyPipe(PurgeRequest)) body: PurgeRequest,
  ): Promise<PurgeResponse> {
    return answer(this.operations.purge(queue, body.ids ? { ids: body.ids } : { all: true }));
  }

  onModuleDestroy(): Promise<void> {
    return this.operations.close();
  }
}

function answer<T>(operation: Promise<T>): Promise<T> {
  return operation.catch((err: unknown) => {
    throw deadLetterHttpError(err);
  });
}
