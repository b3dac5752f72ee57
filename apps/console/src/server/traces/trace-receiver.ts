import type { ExportTraceServiceRequest, ExportTraceServiceResponse, TraceReceiverState } from '../../contracts/traces';
import { PushedSource } from '../pushed-source';
import { OtlpForwarder, type ForwardedBody } from './otlp-forwarder';
import { flattenRequest } from './otlp-spans';
import { TraceStore, type TraceStoreBounds } from './trace-store';

export interface TraceSettings extends TraceStoreBounds {
  /** The largest request body POST /v1/traces reads (compressed or not), in bytes. */
  maxBodyBytes: number;
  /** Where accepted bodies are passed on (CONSOLE_OTLP_FORWARD_URL); unset: nowhere. */
  forwardUrl?: string;
}

/** How many orders the live stream names as recently traced. */
const RECENT_ORDERS = 50;
/** At most one `traces` event per this many ms: services export in bursts, and a browser needs one refresh per burst. */
const PUBLISH_EVERY_MS = 250;

/**
 * The live stream's `traces` source: the receiver's state, pushed (not polled) when spans arrive, at most once
 * per PUBLISH_EVERY_MS however fast they come.
 */
export class TraceSource extends PushedSource {
  private publishTimer?: NodeJS.Timeout;
  private lastPublished = 0;

  constructor(private readonly read: () => TraceReceiverState) {
    super('traces', read());
  }

  /** Something changed: publish now, or at the end of the current window. */
  changed(): void {
    if (this.publishTimer) return;
    const wait = this.lastPublished + PUBLISH_EVERY_MS - Date.now();
    if (wait <= 0) return this.publish();
    this.publishTimer = setTimeout(() => this.publish(), wait);
    this.publishTimer.unref();
  }

  close(): void {
    clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
  }

  private publish(): void {
    this.publishTimer = undefined;
    this.lastPublished = Date.now();
    this.push(this.read());
  }
}

/**
 * The console's OTLP receiver behind POST /v1/traces (otlp-http.ts reads the request): stores what it accepts
 * (TraceStore), passes it on when told to (OtlpForwarder), counts what it took and refused, and tells the live
 * stream.
 */
export class TraceReceiver {
  readonly store: TraceStore;
  readonly forwarder?: OtlpForwarder;
  readonly source: TraceSource;
  private readonly received: TraceReceiverState['received'] = { requests: 0, spans: 0, rejectedSpans: 0 };
  private readonly refusals: TraceReceiverState['refused'] = { requests: 0 };

  constructor(readonly settings: TraceSettings) {
    this.store = new TraceStore(settings);
    this.source = new TraceSource(() => this.state());
    if (settings.forwardUrl) {
      this.forwarder = new OtlpForwarder({ url: settings.forwardUrl });
      this.forwarder.onChange = () => this.source.changed();
    }
  }

  /** A valid request: stores its spans, queues the body for forwarding, answers as OTLP asks. */
  accept(request: ExportTraceServiceRequest, raw: ForwardedBody): ExportTraceServiceResponse {
    const spans = flattenRequest(request);
    const { rejected } = this.store.add(spans);
    this.received.requests++;
    this.received.spans += spans.length - rejected;
    this.received.rejectedSpans += rejected;
    this.received.lastAt = new Date().toISOString();
    this.forwarder?.push(raw);
    this.source.changed();
    if (!rejected) return {};
    return {
      partialSuccess: {
        rejectedSpans: rejected,
        errorMessage: `${rejected} span(s) refused: their trace already holds ${this.settings.maxSpans} spans, the most the console keeps (CONSOLE_SPANS_MAX)`,
      },
    };
  }

  /** A request answered 4xx, and why. */
  refuse(reason: string): void {
    this.refusals.requests++;
    this.refusals.lastReason = reason;
    this.refusals.lastAt = new Date().toISOString();
    this.source.changed();
  }

  state(): TraceReceiverState {
    return {
      received: { ...this.received },
      refused: { ...this.refusals },
      stored: { traces: this.store.traceCount, spans: this.store.spanCount, evictedTraces: this.store.evictedTraces },
      bounds: {
        maxTraces: this.settings.maxTraces,
        maxSpans: this.settings.maxSpans,
        maxBodyBytes: this.settings.maxBodyBytes,
      },
      ...(this.forwarder ? { forward: this.forwarder.stats() } : {}),
      recentOrders: this.store.recentOrders(RECENT_ORDERS),
    };
  }

  close(): void {
    this.source.close();
    this.forwarder?.close();
  }
}
