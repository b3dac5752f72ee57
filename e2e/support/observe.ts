// Test-side participants: a subscriber queue of the test's own in a stack's namespace, and the SMTP capture.
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { eventually, http, type Stack } from './stack';

export interface Subscriber {
  messaging: Messaging;
  /** The namespaced queue name. */
  queue: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the suites read payloads as the contracts document them
  received: IncomingMessage<any>[];
  close(): Promise<void>;
}

/** A library client in the stack's namespace (its exchanges). */
export function client(stack: Stack, serviceName: string): Messaging {
  return new Messaging({
    url: stack.amqpUrl,
    serviceName,
    eventsExchange: `${stack.namespace}.warren.events`,
    commandsExchange: `${stack.namespace}.warren.commands`,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
  });
}

/** A queue `<ns>.e2e.<name>` bound to `patterns` on the events exchange, recording what arrives. */
export async function subscribe(stack: Stack, name: string, patterns: string[]): Promise<Subscriber> {
  const messaging = client(stack, `e2e-${name}`);
  const queue = `${stack.namespace}.e2e.${name}`;
  const received: Subscriber['received'] = [];
  await messaging.consume({
    queue,
    bindings: patterns.map((pattern) => ({ pattern })),
    handlers: [{ pattern: '#', handle: (m) => void received.push(m) }],
  });
  await messaging.start();
  return { messaging, queue, received, close: () => messaging.close() };
}

export interface Mail {
  ID: string;
  /** The Message-ID header, without its angle brackets: the same for every copy of one email. */
  MessageID: string;
  To: Array<{ Address: string }>;
  Subject: string;
  Created: string;
}

/** Everything the SMTP capture holds (Mailpit API, a page of 1,000 at a time), oldest first. */
export async function mails(stack: Stack): Promise<Mail[]> {
  const all: Mail[] = [];
  for (let start = 0; ; start += 1000) {
    const res = await http('GET', `${stack.mailUrl}/api/v1/messages?start=${start}&limit=1000`);
    const page = res.body.messages as Mail[];
    all.push(...page);
    if (page.length < 1000) break;
  }
  return all.sort((a, b) => a.Created.localeCompare(b.Created));
}

/** The emails to one address, once at least `count` arrived. */
export function mailsTo(stack: Stack, address: string, count = 1, timeoutMs = 30_000): Promise<Mail[]> {
  return eventually(
    `${count} email(s) to ${address}`,
    async () => {
      const to = (await mails(stack)).filter((m) => m.To.some((t) => t.Address === address));
      return to.length >= count ? to : undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${stack.logs()}`);
  });
}
