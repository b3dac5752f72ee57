import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';

type Source = 'body' | 'query' | 'params';

const WHAT: Record<Source, string> = {
  body: 'invalid request body',
  query: 'invalid query',
  params: 'invalid path parameters',
};

/**
 * Validates one part of a request with a zod schema. A bad part is a 400 that lists every problem with its path:
 *   { "statusCode": 400, "error": "Bad Request", "message": "invalid request body",
 *     "issues": [{ "path": "items.0.quantity", "message": "Too small: expected number to be >0" }] }
 * (message "invalid query" / "invalid path parameters" for the other parts; path "(body)", "(query)" or
 * "(params)" for a problem with the whole part).
 */
abstract class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  protected constructor(
    private readonly schema: z.ZodType,
    private readonly source: Source,
  ) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data as z.output<S>;
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: WHAT[this.source],
      issues: result.error.issues.map((i) => ({ path: i.path.join('.') || `(${this.source})`, message: i.message })),
    });
  }
}

/** `@Body(new ZodBodyPipe(Schema))` */
export class ZodBodyPipe<S extends z.ZodType> extends ZodPipe<S> {
  constructor(schema: S) {
    super(schema, 'body');
  }
}

// Express hands a repeated parameter (?orderId=1&orderId=2) over as an array. No route takes one, and an array
// that got past a route once reached the database as a 500: every value must be a single string first.
const singleValues = z.record(
  z.string(),
  z.string({
    error: (issue) =>
      Array.isArray(issue.input) ? `given ${issue.input.length} times; give it once` : 'must be a single value',
  }),
);

/** `@Query(new ZodQueryPipe(Schema))`: the whole query object; each parameter must appear at most once. */
export class ZodQueryPipe<S extends z.ZodType> extends ZodPipe<S> {
  constructor(schema: S) {
    super(singleValues.pipe(schema as z.ZodType<unknown, Record<string, string>>), 'query');
  }
}

/** `@Param(new ZodParamsPipe(Schema))`: the whole path parameter object. */
export class ZodParamsPipe<S extends z.ZodType> extends ZodPipe<S> {
  constructor(schema: S) {
    super(schema, 'params');
  }
}

/**
 * A whole number written in a query or path parameter (digits only: no sign, exponent, hex or blanks, which
 * z.coerce.number() would take), within [min, max].
 */
export function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,15}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `must be a whole number from ${min} to ${max}`)
        .max(max, `must be a whole number from ${min} to ${max}`),
    );
}
