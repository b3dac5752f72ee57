import type { DeliveryEvent, MessagingEventMap } from '../core/events';
import type { Messaging } from '../core/messaging';

type Recorded = {
  [K in keyof MessagingEventMap]: { event: K; data: MessagingEventMap[K][0] };
}[keyof MessagingEventMap];
type DataOf<K extends keyof MessagingEventMap> = MessagingEventMap[K][0];
export type EventMatch<T> =
  Partial<Pick<DeliveryEvent, 'queue' | 'messageId' | 'type' | 'correlationId'>> | ((data: T) => boolean);

/**
 * Await what the library did instead of sleeping:
 *
 *   const harness = new MessagingHarness(messaging);
 *   await messaging.emit(OrderPlaced, order);
 *   await harness.acked({ type: 'order.placed' });              // the handler finished and acked
 *   await harness.deadLettered({ queue: 'payments.order-placed' });
 *
 * Events are recorded from construction on, so a wait that starts after the fact still sees it.
 */
export class MessagingHarness {
  private readonly history: Recorded[] = [];
  private readonly waiters = new Set<{
    event: keyof MessagingEventMap;
    test: (d: unknown) => boolean;
    resolve: (d: unknown) => void;
  }>();
  private readonly detach: Array<() => void> = [];

  constructor(messaging: Messaging) {
    const names: Array<keyof MessagingEventMap> = [
      'published',
      'consumed',
      'acked',
      'retried',
      'dead-lettered',
      'backpressure',
      'connected',
      'disconnected',
      'channel-closed',
      'channel-recovery-failed',
      'channel-recovered',
    ];
    for (const event of names) {
      const listener = (data?: unknown) => this.record({ event, data } as Recorded);
      messaging.events.on(event, listener as never);
      this.detach.push(() => messaging.events.off(event, listener as never));
    }
  }

  private record(r: Recorded): void {
    this.history.push(r);
    for (const w of this.waiters) {
      if (w.event === r.event && w.test(r.data)) {
        this.waiters.delete(w);
        w.resolve(r.data);
      }
    }
  }

  /** Every recorded event of one kind that matches. */
  all<K extends keyof MessagingEventMap>(event: K, match: EventMatch<DataOf<K>> = {}): DataOf<K>[] {
    const test = toTest(match);
    return this.history.filter((r) => r.event === event && test(r.data)).map((r) => r.data as DataOf<K>);
  }

  /** The first matching event, past or future; rejects after `timeoutMs` with what it waited for. */
  waitFor<K extends keyof MessagingEventMap>(
    event: K,
    match: EventMatch<DataOf<K>> = {},
    timeoutMs = 10_000,
  ): Promise<DataOf<K>> {
    const test = toTest(match) as (d: unknown) => boolean;
    const seen = this.history.find((r) => r.event === event && test(r.data));
    if (seen) return Promise.resolve(seen.data as DataOf<K>);
    return new Promise((resolve, reject) => {
      const waiter = {
        event,
        test,
        resolve: (d: unknown) => {
          clearTimeout(timer);
          resolve(d as DataOf<K>);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no '${String(event)}' event matching ${describe(match)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Waits until `count` matching events have been recorded. */
  async waitForCount<K extends keyof MessagingEventMap>(
    event: K,
    count: number,
    match: EventMatch<DataOf<K>> = {},
    timeoutMs = 10_000,
  ): Promise<DataOf<K>[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.all(event, match);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `saw ${found.length} of ${count} '${String(event)}' events matching ${describe(match)} within ${timeoutMs} ms`,
        );
      await this.waitForNext(event, Math.min(left, 250));
    }
  }

  private waitForNext(event: keyof MessagingEventMap, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = { event, test: () => true, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => (this.waiters.delete(waiter), resolve()), ms);
      this.waiters.add(waiter);
    });
  }

  acked(match: EventMatch<DeliveryEvent> = {}, timeoutMs?: number) {
    return this.waitFor('acked', match, timeoutMs);
  }

  retried(match: EventMatch<DataOf<'retried'>> = {}, timeoutMs?: number) {
    return this.waitFor('retried', match, timeoutMs);
  }

  deadLettered(match: EventMatch<DataOf<'dead-lettered'>> = {}, timeoutMs?: number) {
    return this.waitFor('dead-lettered', match, timeoutMs);
  }

  /** Stops recording. */
  dispose(): void {
    for (const d of this.detach.splice(0)) d();
    this.waiters.clear();
  }
}

function toTest<T>(match: EventMatch<T>): (d: T) => boolean {
  if (typeof match === 'function') return match;
  return (d) => Object.entries(match).every(([k, v]) => (d as Record<string, unknown>)?.[k] === v);
}

const describe = (match: unknown): string => (typeof match === 'function' ? 'the predicate' : JSON.stringify(match));
