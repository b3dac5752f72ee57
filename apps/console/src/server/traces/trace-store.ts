import type { Trace, TraceSpan } from '../../contracts/traces';
import { orderIdsOf } from './otlp-spans';

export interface TraceStoreBounds {
  /** Whole traces kept at most. */
  maxTraces: number;
  /** Spans kept at most, over all traces; also the most one trace may hold. */
  maxSpans: number;
}

interface StoredTrace {
  id: string;
  spans: Map<string, TraceSpan>;
  orderIds: Set<string>;
}

/** What one add() did: the spans it refused (a trace at the span bound) and what changed. */
export interface AddResult {
  rejected: number;
  traceIds: Set<string>;
  orderIds: Set<string>;
}

/**
 * The spans the console received, in memory and bounded: at most maxTraces traces and maxSpans spans. Past a
 * bound it evicts whole traces, never single spans (half a waterfall would mislead), least recently updated
 * first, and among those a trace that concerns no order before one that does: the services' own traffic (the
 * console's polls of /orders, /stock … are traces too) must not push out the orders a user came to look at.
 * Indexed by trace id and by order id (the span attributes in ORDER_ID_ATTRIBUTES).
 *
 * Two insertion-ordered maps hold the traces, with and without an order; touching a trace moves it to the end,
 * so the first entry of each is its least recently updated one and eviction never scans.
 */
export class TraceStore {
  private readonly withOrder = new Map<string, StoredTrace>();
  private readonly withoutOrder = new Map<string, StoredTrace>();
  private readonly byOrder = new Map<string, Set<string>>();
  /** Order id → when its traces last changed, least recent first (the live stream's recentOrders). */
  private readonly orderUpdates = new Map<string, number>();
  private spanTotal = 0;
  evictedTraces = 0;

  constructor(readonly bounds: TraceStoreBounds) {}

  get traceCount(): number {
    return this.withOrder.size + this.withoutOrder.size;
  }

  get spanCount(): number {
    return this.spanTotal;
  }

  /** Stores spans; a span sent again (an exporter's retry) replaces the one with its id. */
  add(spans: TraceSpan[]): AddResult {
    const result: AddResult = { rejected: 0, traceIds: new Set(), orderIds: new Set() };
    const now = Date.now();
    for (const span of spans) {
      const trace = this.take(span.traceId);
      const isNew = !trace.spans.has(span.spanId);
      if (isNew && trace.spans.size >= this.bounds.maxSpans) {
        result.rejected++;
        this.put(trace);
        continue;
      }
      trace.spans.set(span.spanId, span);
      if (isNew) this.spanTotal++;
      for (const orderId of orderIdsOf(span)) {
        trace.orderIds.add(orderId);
        let traces = this.byOrder.get(orderId);
        if (!traces) this.byOrder.set(orderId, (traces = new Set()));
        traces.add(trace.id);
      }
      this.put(trace);
      result.traceIds.add(trace.id);
      for (const orderId of trace.orderIds) result.orderIds.add(orderId);
    }
    for (const orderId of result.orderIds) {
      this.orderUpdates.delete(orderId);
      this.orderUpdates.set(orderId, now);
    }
    this.evict(result.traceIds);
    return result;
  }

  trace(traceId: string): Trace | undefined {
    const stored = this.withOrder.get(traceId) ?? this.withoutOrder.get(traceId);
    return stored ? view(stored) : undefined;
  }

  /** The traces that carry an order's id, oldest first. */
  forOrder(orderId: string): Trace[] {
    return [...(this.byOrder.get(orderId) ?? [])]
      .map((id) => this.trace(id))
      .filter((t): t is Trace => t !== undefined)
      .sort((a, b) => a.startMs - b.startMs);
  }

  /** The orders whose traces changed last, newest first. */
  recentOrders(limit: number): Array<{ orderId: string; spans: number; updatedAt: string }> {
    const ids = [...this.orderUpdates.keys()].slice(-limit).reverse();
    return ids.map((orderId) => ({
      orderId,
      spans: [...(this.byOrder.get(orderId) ?? [])].reduce(
        (n, id) => n + ((this.withOrder.get(id) ?? this.withoutOrder.get(id))?.spans.size ?? 0),
        0,
      ),
      updatedAt: new Date(this.orderUpdates.get(orderId)!).toISOString(),
    }));
  }

  /** Removes a trace from whichever map holds it (or makes it); put() files it again as the most recent. */
  private take(traceId: string): StoredTrace {
    const stored = this.withOrder.get(traceId) ??
      this.withoutOrder.get(traceId) ?? { id: traceId, spans: new Map(), orderIds: new Set() };
    this.withOrder.delete(traceId);
    this.withoutOrder.delete(traceId);
    return stored;
  }

  private put(trace: StoredTrace): void {
    (trace.orderIds.size ? this.withOrder : this.withoutOrder).set(trace.id, trace);
  }

  /**
   * Back within the bounds. The traces just written go last: a batch should not push out its own trace while
   * older ones remain (it still can when the batch alone is past a bound).
   */
  private evict(justWritten: Set<string>): void {
    while (this.traceCount > this.bounds.maxTraces || this.spanTotal > this.bounds.maxSpans) {
      const victim =
        firstNotIn(this.withoutOrder, justWritten) ??
        firstNotIn(this.withOrder, justWritten) ??
        first(this.withoutOrder) ??
        first(this.withOrder);
      if (!victim) return;
      this.withOrder.delete(victim.id);
      this.withoutOrder.delete(victim.id);
      this.spanTotal -= victim.spans.size;
      this.evictedTraces++;
      for (const orderId of victim.orderIds) {
        const traces = this.byOrder.get(orderId);
        traces?.delete(victim.id);
        if (!traces?.size) {
          this.byOrder.delete(orderId);
          this.orderUpdates.delete(orderId);
        }
      }
    }
  }
}

const first = (map: Map<string, StoredTrace>): StoredTrace | undefined => map.values().next().value;

function firstNotIn(map: Map<string, StoredTrace>, skip: Set<string>): StoredTrace | undefined {
  for (const trace of map.values()) if (!skip.has(trace.id)) return trace;
  return undefined;
}

function view(stored: StoredTrace): Trace {
  const spans = [...stored.spans.values()].sort((a, b) => a.startMs - b.startMs || a.spanId.localeCompare(b.spanId));
  // reduce, not Math.min(...spans): a trace may hold more spans than a call takes arguments
  const startMs = spans.reduce((min, s) => Math.min(min, s.startMs), Infinity);
  const endMs = spans.reduce((max, s) => Math.max(max, s.endMs), -Infinity);
  return {
    traceId: stored.id,
    startMs,
    endMs,
    durationMs: Math.round((endMs - startMs) * 1000) / 1000,
    services: [...new Set(spans.map((s) => s.service))],
    orderIds: [...stored.orderIds],
    spans,
  };
}
