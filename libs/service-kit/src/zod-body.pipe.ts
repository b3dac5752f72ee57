import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/**
 * Validates a request body with a zod schema. A bad body is a 400 that lists every problem with its path:
 *   { "statusCode": 400, "error": "Bad Request", "message": "invalid request body",
 *     "issues": [{ "path": "items.0.quantity", "message": "Too small: expected number to be >0" }] }
 */
export class ZodBodyPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: 'invalid request body',
      issues: result.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    });
  }
}
