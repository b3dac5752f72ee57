import { z } from 'zod';
import { MessageValidationError } from '../errors';

/**
 * A message type defined once: its name (the AMQP `type` property, and by default its routing key) and a zod
 * schema that both publishers and consumers check. `Payload<typeof OrderPlaced>` is its TypeScript type.
 */
export interface MessageContract<TType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  readonly type: TType;
  readonly schema: TSchema;
  /** Returns the validated (and schema-transformed) payload, or throws MessageValidationError. */
  parse(payload: unknown): z.output<TSchema>;
}

export type Payload<C extends MessageContract> = z.output<C['schema']>;
export type PayloadInput<C extends MessageContract> = z.input<C['schema']>;

export function defineMessage<TType extends string, TSchema extends z.ZodType>(
  type: TType,
  schema: TSchema,
): MessageContract<TType, TSchema> {
  return {
    type,
    schema,
    parse(payload: unknown) {
      const result = schema.safeParse(payload);
      if (result.success) return result.data;
      throw new MessageValidationError(
        type,
        result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`),
      );
    },
  };
}
