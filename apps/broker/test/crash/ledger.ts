// What the crash harness knows, kept in the harness process (never asked of the broker): every message it
// published and what became of its confirm, every delivery it received, and every ack it sent together with
// whether a later round trip on the same channel proved the broker had processed it. verify() turns that
// into the run's verdict. Pure bookkeeping, no I/O, so ledger.spec.ts can check the classification directly.
//
// Units: a message goes to one or more queues (a fanout message to two); each (queue, message id) pair is a
// "copy", and loss and duplicates are judged per copy.
//
// Sessions: one broker lifetime as the clients saw it (a crash cycle, a drain after a restart, or the final
// check after a clean stop). Sessions are numbered in order.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** Milliseconds on the harness's clock (for the timing shown in examples). */
export function now(): number {
  return Math.round(performance.now() * 10) / 10;
}

export type SessionKind = 'cycle' | 'drain' | 'verify';
export type PublishStatus = 'pending' | 'confirmed' | 'nacked' | 'unconfirmed';

export interface PublishedMessage {
  id: string;
  session: number;
  /** The publishing channel, e.g. 'c3-p1'; seq counts its messages from 1. */
  publisher: string;
  seq: number;
  /** Queues the message must reach (two for the fanout exchange). */
  queues: string[];
  priority: number;
  size: number;
  /** Published with delivery-mode 2 (omitted: true). A quorum queue keeps transient messages as well. */
  persistent?: boolean;
  status: PublishStatus;
  /** basic.return seen (mandatory and unroutable). */
  returned: boolean;
}

/**
 * A consumer channel's acks, numbered 1, 2, ... in the order sent. A reply to a round trip started after an
 * ack (same channel, so the broker handled them in order) shows the broker processed it. If that reply arrived
 * before the kill, the ack is proven (acks numbered <= provenUpTo); if it only arrived after (it was in the
 * socket when the broker died), the broker had processed the ack at the moment of the crash (<= processedUpTo)
 * but nobody could have acted on that knowledge before the crash.
 */
export class ChannelLog {
  acksSent = 0;
  provenUpTo = 0;
  processedUpTo = 0;
  /** When each advance happened. */
  readonly proofs: { upTo: number; at: number }[] = [];
  constructor(
    readonly name: string,
    readonly session: number,
    /** Whether the session's broker has been killed (or its sockets dropped) already. */
    private readonly ended: () => boolean = () => false,
  ) {}

  /** Before a round trip: the acks it will prove if its reply arrives. */
  mark(): number {
    return this.acksSent;
  }

  /** A reply arrived for a round trip started at mark: the broker processed every ack sent before it. */
  proved(mark: number): void {
    if (mark <= this.processedUpTo) return;
    this.processedUpTo = mark;
    if (!this.ended()) this.provenUpTo = mark;
    this.proofs.push({ upTo: mark, at: now() });
  }

  /** When the broker's reply covering the ack with this index arrived, if it did. */
  provenAt(index: number): number | undefined {
    return this.proofs.find((p) => p.upTo >= index)?.at;
  }
}

export interface DeliveryRecord {
  /** Global receive order. */
  n: number;
  session: number;
  queue: string;
  id: string;
  redelivered: boolean;
  channel: ChannelLog;
  tag: number;
  /** Received after the session's broker was killed (it was in the socket when the broker died). */
  afterKill: boolean;
  /** The x-delivery-count header (quorum queues), if the delivery carried one. */
  deliveryCount?: number;
  /** Set when an ack covering this delivery was written to the channel. */
  ackIndex?: number;
  receivedAt: number;
  ackedAt?: number;
}

export interface IncomingMessage {
  messageId?: string;
  content: Buffer;
  redelivered: boolean;
  deliveryTag: number;
  deliveryMode?: number;
  priority?: number;
  deliveryCount?: number;
}

export type AckState = 'none' | 'in-flight' | 'processed-at-kill' | 'proven';

export function ackState(d: DeliveryRecord): AckState {
  if (d.ackIndex === undefined) return 'none';
  if (d.ackIndex <= d.channel.provenUpTo) return 'proven';
  return d.ackIndex <= d.channel.processedUpTo ? 'processed-at-kill' : 'in-flight';
}

/** The body for a message id: the id, '|', then filler derived from the id, `size` bytes in all. */
export function messageBody(id: string, size: number): Buffer {
  const head = Buffer.from(`${id}|`);
  const body = Buffer.alloc(Math.max(size, head.length));
  head.copy(body);
  let block = createHash('sha256').update(id).digest();
  for (let at = head.length; at < body.length; at += block.length) {
    block.copy(body, at);
    block = createHash('sha256').update(block).digest();
  }
  return body;
}

export interface Summary {
  sessions: number;
  published: number;
  copies: number;
  confirmed: number;
  nacked: number;
  unconfirmed: number;
  deliveries: number;
  /** Copies of unconfirmed messages that did / did not turn up: both allowed. */
  unconfirmedDelivered: number;
  unconfirmedMissing: number;
  /** Confirmed copies never delivered. Must be 0. */
  lost: number;
  /** Deliveries of copies whose earlier delivery had a proven ack, in a later session. Must be 0. */
  provenAckedRedelivered: number;
  /** Deliveries of copies whose earlier delivery had an ack sent but not proven processed: allowed. */
  inFlightDuplicates: number;
  /**
   * Of those, the ones whose ack the broker had processed: a reply sent after it reached the harness, but only
   * after the kill. Allowed (the ack was not complete before the crash), reported because it shows the broker
   * answering before its ack record was written.
   */
  processedAtKillDuplicates: number;
  /** Deliveries of copies delivered before and never acked: expected after a crash. */
  recoveredUnacked: number;
  /** A copy delivered again (in a later session) with redelivered=false, first received before the kill. Must be 0. */
  redeliveredFlagViolations: number;
  /** The same, but the earlier delivery reached the harness only after the kill (allowed, reported). */
  redeliveredFlagLostAtKill: number;
  /** A first delivery carrying redelivered=true: allowed (the flag is a hint), counted for information. */
  spuriousRedeliveredFlags: number;
  /** Never-delivered (redelivered=false) messages of one publisher arriving out of publish order on one channel. Must be 0. */
  orderViolations: number;
  /** The same copy delivered twice within one session (the harness never requeues). Must be 0. */
  sameSessionDuplicates: number;
  /** Unknown ids, bodies that do not match, wrong queue, properties lost. Must be 0. */
  corrupt: number;
  /** Confirmed messages returned as unroutable (mandatory). Must be 0. */
  unroutable: number;
  /** Durable queues/exchanges missing (or changed) after a restart. Must be 0. */
  topologyLost: number;
  /**
   * Quorum queues: a delivery whose x-delivery-count is not above the copy's previous one (a restart must not
   * reset it), or whose redelivered flag does not say whether it is above 0. Must be 0.
   */
  deliveryCountViolations: number;
  /** Deliveries after the final clean stop and restart (everything had been drained and acked). Must be 0. */
  afterCleanRestart: number;
  /** Harness-level failures: broker failed to start, died on its own, a drain timed out. Must be 0. */
  errors: number;
  violations: number;
  examples: Record<string, string[]>;
}

const MAX_EXAMPLES = 5;

export class Ledger {
  /** Queues whose deliveries carry delivery counts (quorum queues). */
  readonly quorumQueues = new Set<string>();
  readonly messages = new Map<string, PublishedMessage>();
  readonly deliveries: DeliveryRecord[] = [];
  private readonly byCopy = new Map<string, DeliveryRecord[]>();
  readonly sessionKinds: SessionKind[] = [];
  private readonly endedAt: number[] = [];
  private corruptCount = 0;
  private topologyCount = 0;
  private errorCount = 0;
  private readonly examples: Record<string, string[]> = {};

  private example(kind: string, text: string): void {
    const list = (this.examples[kind] ??= []);
    if (list.length < MAX_EXAMPLES) list.push(text);
  }

  newSession(kind: SessionKind): number {
    this.sessionKinds.push(kind);
    return this.sessionKinds.length - 1;
  }

  published(message: Omit<PublishedMessage, 'status' | 'returned'>): PublishedMessage {
    const record: PublishedMessage = { ...message, status: 'pending', returned: false };
    this.messages.set(message.id, record);
    return record;
  }

  /** The confirm callback's outcome: null = basic.ack, 'nack' = basic.nack, 'closed' = no answer before the channel went. */
  settled(id: string, outcome: 'ack' | 'nack' | 'closed'): void {
    const m = this.messages.get(id);
    if (!m || m.status !== 'pending') return;
    m.status = outcome === 'ack' ? 'confirmed' : outcome === 'nack' ? 'nacked' : 'unconfirmed';
  }

  returned(id: string | undefined): void {
    const m = id === undefined ? undefined : this.messages.get(id);
    if (m) m.returned = true;
  }

  topologyLost(session: number, what: string): void {
    this.topologyCount++;
    this.example('topologyLost', `session ${session}: ${what}`);
  }

  error(session: number, what: string): void {
    this.errorCount++;
    this.example('errors', `session ${session}: ${what}`);
  }

  delivered(session: number, queue: string, channel: ChannelLog, m: IncomingMessage): DeliveryRecord {
    const id = m.messageId ?? `(no message-id: ${m.content.subarray(0, 40).toString('latin1')})`;
    const d: DeliveryRecord = {
      n: this.deliveries.length,
      session,
      queue,
      id,
      redelivered: m.redelivered,
      channel,
      tag: m.deliveryTag,
      afterKill: this.endedAt[session] !== undefined,
      receivedAt: now(),
      deliveryCount: m.deliveryCount,
    };
    this.deliveries.push(d);
    const key = `${queue}\u0000${id}`;
    const list = this.byCopy.get(key);
    if (list) list.push(d);
    else this.byCopy.set(key, [d]);
    const problem = this.integrity(queue, id, m);
    if (problem) {
      this.corruptCount++;
      this.example('corrupt', `${queue} ${id} (session ${session}): ${problem}`);
    }
    return d;
  }

  private integrity(queue: string, id: string, m: IncomingMessage): string | undefined {
    const published = this.messages.get(id);
    if (!published) return 'unknown message id';
    if (!published.queues.includes(queue))
      return `published for ${published.queues.join(', ')}, delivered from ${queue}`;
    if (m.content.length !== published.size) return `body is ${m.content.length} bytes, published ${published.size}`;
    if (!m.content.equals(messageBody(id, published.size))) return 'body differs from what was published';
    const mode = published.persistent === false ? 1 : 2;
    if (m.deliveryMode !== mode) return `delivery-mode ${m.deliveryMode}, published ${mode}`;
    if ((m.priority ?? 0) !== published.priority) return `priority ${m.priority}, published ${published.priority}`;
    return undefined;
  }

  /** Records one ack frame written on a channel, covering the given deliveries (several for multiple=true). */
  acked(channel: ChannelLog, covered: DeliveryRecord[]): void {
    const index = ++channel.acksSent;
    const at = now();
    for (const d of covered) {
      d.ackIndex = index;
      d.ackedAt = at;
    }
  }

  /** The session's broker is being killed (or its sockets dropped) now. */
  sessionEnded(session: number): void {
    this.endedAt[session] ??= now();
  }

  ended(session: number): boolean {
    return this.endedAt[session] !== undefined;
  }

  /** A consumer channel's log, knowing when its session ends. */
  channel(name: string, session: number): ChannelLog {
    return new ChannelLog(name, session, () => this.ended(session));
  }

  /** A delivery's story relative to its session's end, for examples. */
  private timeline(d: DeliveryRecord): string {
    const end = this.endedAt[d.session];
    const rel = (t: number | undefined) =>
      t === undefined ? '-' : end === undefined ? `${t}` : `${(t - end).toFixed(1)}`;
    const proven = d.ackIndex === undefined ? undefined : d.channel.provenAt(d.ackIndex);
    return `session ${d.session} on ${d.channel.name}: received ${rel(d.receivedAt)} ms, ack ${rel(d.ackedAt)} ms, proven ${rel(proven)} ms (relative to the kill)`;
  }

  verify(): Summary {
    const s: Summary = {
      sessions: this.sessionKinds.length,
      published: this.messages.size,
      copies: 0,
      confirmed: 0,
      nacked: 0,
      unconfirmed: 0,
      deliveries: this.deliveries.length,
      unconfirmedDelivered: 0,
      unconfirmedMissing: 0,
      lost: 0,
      provenAckedRedelivered: 0,
      inFlightDuplicates: 0,
      processedAtKillDuplicates: 0,
      recoveredUnacked: 0,
      redeliveredFlagViolations: 0,
      redeliveredFlagLostAtKill: 0,
      spuriousRedeliveredFlags: 0,
      orderViolations: 0,
      sameSessionDuplicates: 0,
      corrupt: this.corruptCount,
      unroutable: 0,
      topologyLost: this.topologyCount,
      deliveryCountViolations: 0,
      afterCleanRestart: 0,
      errors: this.errorCount,
      violations: 0,
      examples: {},
    };
    for (const [kind, list] of Object.entries(this.examples)) s.examples[kind] = [...list];
    const example = (kind: string, text: string) => {
      const list = (s.examples[kind] ??= []);
      if (list.length < MAX_EXAMPLES) list.push(text);
    };

    // Loss, per copy.
    for (const m of this.messages.values()) {
      s.copies += m.queues.length;
      if (m.status === 'confirmed') s.confirmed++;
      else if (m.status === 'nacked') s.nacked++;
      else s.unconfirmed++;
      if (m.returned && m.status === 'confirmed') {
        s.unroutable++;
        example('unroutable', `${m.id}: confirmed but returned unroutable`);
        continue;
      }
      for (const queue of m.queues) {
        const seen = this.byCopy.has(`${queue}\u0000${m.id}`);
        if (m.status === 'confirmed') {
          if (!seen) {
            s.lost++;
            example('lost', `${queue} ${m.id}: confirmed in session ${m.session}, never delivered`);
          }
        } else if (seen) s.unconfirmedDelivered++;
        else s.unconfirmedMissing++;
      }
    }

    // Repeats, per copy, in receive order.
    const firsts: DeliveryRecord[] = [];
    for (const list of this.byCopy.values()) {
      if (this.quorumQueues.has(list[0].queue)) this.checkDeliveryCounts(list, s, example);
      list.forEach((d, i) => {
        const where = `${d.queue} ${d.id}`;
        if (i === 0) {
          firsts.push(d);
          if (d.redelivered) s.spuriousRedeliveredFlags++;
          if (this.sessionKinds[d.session] === 'verify') {
            // The drain before the clean stop saw the queue empty, yet this came back afterwards.
            s.afterCleanRestart++;
            example(
              'afterCleanRestart',
              `${where}: first delivered after the final clean restart, missed by the drain`,
            );
          }
          return;
        }
        const before = list.slice(0, i);
        const history = before.map((p) => `session ${p.session} ack=${ackState(p)}`).join(', ');
        if (before.some((p) => p.session === d.session)) {
          s.sameSessionDuplicates++;
          example('sameSessionDuplicates', `${where}: delivered twice in session ${d.session}`);
          return;
        }
        if (!d.redelivered) {
          const seenBeforeKill = before.find((p) => !p.afterKill);
          if (seenBeforeKill) {
            s.redeliveredFlagViolations++;
            example(
              'redeliveredFlagViolations',
              `${where}: redelivered=false in session ${d.session}, delivered before: ${this.timeline(seenBeforeKill)}`,
            );
          } else {
            s.redeliveredFlagLostAtKill++;
            example(
              'redeliveredFlagLostAtKill',
              `${where}: redelivered=false in session ${d.session}, delivered before: ${this.timeline(before[before.length - 1])}`,
            );
          }
        }
        if (this.sessionKinds[d.session] === 'verify') {
          s.afterCleanRestart++;
          example('afterCleanRestart', `${where}: delivered after the final clean restart (${history})`);
        } else if (before.some((p) => ackState(p) === 'proven')) {
          s.provenAckedRedelivered++;
          const proven = before.find((p) => ackState(p) === 'proven')!;
          example(
            'provenAckedRedelivered',
            `${where}: delivered again in session ${d.session} after a proven ack; ${this.timeline(proven)}`,
          );
        } else if (before.some((p) => ackState(p) === 'processed-at-kill')) {
          s.inFlightDuplicates++;
          s.processedAtKillDuplicates++;
          const processed = before.find((p) => ackState(p) === 'processed-at-kill')!;
          example(
            'processedAtKillDuplicates',
            `${where}: delivered again in session ${d.session}; ${this.timeline(processed)}`,
          );
        } else if (before.some((p) => ackState(p) === 'in-flight')) {
          s.inFlightDuplicates++;
        } else {
          s.recoveredUnacked++;
        }
      });
    }

    // Order: per channel (one channel's deliveries arrive in the order the broker sent them), per queue, per
    // publisher and priority level, first deliveries that the broker marks as never delivered must follow
    // publish order. Messages already delivered once (redelivered=true) may come back anywhere.
    const groups = new Map<string, DeliveryRecord[]>();
    for (const d of firsts) {
      if (d.redelivered) continue;
      const m = this.messages.get(d.id);
      if (!m) continue;
      const key = `${d.session}\u0000${d.channel.name}\u0000${d.queue}\u0000${m.publisher}\u0000${m.priority}`;
      const list = groups.get(key);
      if (list) list.push(d);
      else groups.set(key, [d]);
    }
    for (const list of groups.values()) {
      list.sort((a, b) => a.n - b.n);
      let last: PublishedMessage | undefined;
      for (const d of list) {
        const m = this.messages.get(d.id)!;
        if (last && m.seq < last.seq) {
          s.orderViolations++;
          example('orderViolations', `${d.queue} on ${d.channel.name}: ${m.id} arrived after ${last.id}`);
        }
        if (!last || m.seq > last.seq) last = m;
      }
    }

    s.violations =
      s.lost +
      s.provenAckedRedelivered +
      s.redeliveredFlagViolations +
      s.orderViolations +
      s.sameSessionDuplicates +
      s.corrupt +
      s.unroutable +
      s.topologyLost +
      s.deliveryCountViolations +
      s.afterCleanRestart +
      s.errors;
    return s;
  }

  /**
   * A quorum queue's copy: every delivery after the first carries a count above the one before (each time the
   * message came back, by a consumer's channel going away or by a restart, counts), and redelivered is set
   * exactly when the count is above 0.
   */
  private checkDeliveryCounts(list: DeliveryRecord[], s: Summary, example: (kind: string, text: string) => void): void {
    let previous = -1;
    for (const d of list) {
      const count = d.deliveryCount ?? 0;
      const problem =
        count <= previous
          ? `x-delivery-count ${count} after ${previous}`
          : d.redelivered !== count > 0
            ? `redelivered=${d.redelivered} with x-delivery-count ${count}`
            : undefined;
      if (problem) {
        s.deliveryCountViolations++;
        example('deliveryCountViolations', `${d.queue} ${d.id} in session ${d.session}: ${problem}`);
      }
      previous = count;
    }
  }
}
