import { encodeBasicProperties, tableFromPlain } from '@warren/amqp-protocol';
import fc from 'fast-check';
import { Message } from './message';

describe('Message', () => {
  it('reads delivery mode and priority from the raw properties as a full decode would', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            contentType: fc.string(),
            contentEncoding: fc.string(),
            headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer())),
            deliveryMode: fc.constantFrom(1, 2),
            priority: fc.integer({ min: 0, max: 255 }),
            messageId: fc.string(),
          },
          { requiredKeys: [] },
        ),
        (props) => {
          const raw = encodeBasicProperties({ ...props, headers: props.headers && tableFromPlain(props.headers) });
          const message = new Message('x', 'k', raw, Buffer.alloc(0));
          expect(message.persistent).toBe(props.deliveryMode === 2);
          expect(message.priority).toBe(props.priority ?? 0);
          // and the same once the properties have been decoded
          void message.properties;
          expect(message.persistent).toBe(props.deliveryMode === 2);
          expect(message.priority).toBe(props.priority ?? 0);
        },
      ),
    );
  });
});
