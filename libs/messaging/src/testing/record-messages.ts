import type { IncomingMessage } from '../core/message';
import type { Messaging } from '../core/messaging';

/**
 * Consumes `queue`, bound to `pattern` on the events exchange of `messaging`, and keeps every message that arrives
 * there in arrival order: where a test reads the messages a service under test sends (its answers, its events).
 */
export async function recordMessages<T = unknown>(
  messaging: Messaging,
  queue: string,
  pattern: string,
): Promise<IncomingMessage<T>[]> {
  const received: IncomingMessage<T>[] = [];
  await messaging.consume({
    queue,
    bindings: [{ pattern }],
    handlers: [{ pattern, handle: async (m) => void received.push(m as IncomingMessage<T>) }],
  });
  return received;
}
