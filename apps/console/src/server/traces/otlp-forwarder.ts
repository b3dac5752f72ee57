import type { TraceReceiverState } from '../../contracts/traces';
import { withoutCredentials } from '../upstream';

/** One accepted request, as it came: the forwarder sends these bytes and headers on unchanged. */
export interface ForwardedBody {
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
}

export interface ForwarderOptions {
  /** e.g. Jaeger's http://jaeger:4318/v1/traces. */
  url: string;
  /** Bodies waiting at most; past it a new one is dropped (and counted). */
  maxQueued?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
}

/** What the forwarder reports, as the traces API and the live stream carry it. */
export type ForwarderStats = NonNullable<TraceReceiverState['forward']>;

/**
 * Passes every accepted OTLP body on to another receiver (Jaeger, a collector), so services export once, to the
 * console, and the traces still reach the team's own tools. Fire and forget: push() returns at once, bodies go
 * out one at a time in arrival order, and a receiver that is slow or down fills a bounded queue whose overflow is
 * dropped, never the console's memory and never the services' exports, which the console has already answered.
 * Nothing is retried: a failure is counted, with the last reason, and shown in the console.
 */
export class OtlpForwarder {
  private readonly queue: ForwardedBody[] = [];
  private readonly target: URL;
  private readonly shown: string;
  private readonly auth: Record<string, string>;
  private sending = false;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly counts = { sent: 0, failed: 0, dropped: 0 };
  private lastError?: { message: string; at: string };
  /** Calls that change what stats() says (the console's live stream). */
  onChange: () => void = () => undefined;

  constructor(private readonly options: ForwarderOptions) {
    const { url, shown, headers } = withoutCredentials(options.url);
    this.target = url;
    this.shown = shown;
    this.auth = headers;
  }

  push(item: ForwardedBody): void {
    if (this.closed) return;
    if (this.queue.length >= (this.options.maxQueued ?? 100)) {
      this.counts.dropped++;
      this.fail(`the queue was full (${this.options.maxQueued ?? 100} bodies waiting for ${this.shown}): dropped one`);
      return;
    }
    this.queue.push(item);
    void this.drain();
  }

  stats(): ForwarderStats {
    return {
      url: this.shown,
      ...this.counts,
      queued: this.queue.length,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
    };
  }

  /** Resolves once nothing is queued or in flight (the tests, and a clean shutdown). */
  idle(): Promise<void> {
    if (!this.sending && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what waits; a request in flight ends by its timeout at the latest. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      await this.send(item);
      this.onChange();
    }
    this.sending = false;
    this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  private async send(item: ForwardedBody): Promise<void> {
    const headers: Record<string, string> = { ...this.auth, 'content-type': item.contentType };
    if (item.contentEncoding) headers['content-encoding'] = item.contentEncoding;
    try {
      const res = await fetch(this.target, {
        method: 'POST',
        headers,
        body: item.body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
      // read the answer so the connection can be reused
      const text = await res.text().catch(() => '');
      if (res.ok) {
        this.counts.sent++;
        return;
      }
      this.counts.failed++;
      this.fail(`${this.shown} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      this.counts.failed++;
      this.fail(
        e.name === 'TimeoutError' ? `${this.shown}: no answer in time` : `${this.shown}: ${e.cause?.code ?? e.message}`,
      );
    }
  }

  private fail(message: string): void {
    this.lastError = { message, at: new Date().toISOString() };
    this.onChange();
  }
}
