// The crash harness's judgement, on made-up histories: what counts as lost, as a proven-acked duplicate, as
// an allowed in-flight duplicate, as a redelivered-flag or order violation.
import { ackState, ChannelLog, Ledger, messageBody } from './ledger';

const Q = 'q';

function setup() {
  const ledger = new Ledger();
  const publish = (
    id: string,
    seq: number,
    opts: {
      queues?: string[];
      status?: 'ack' | 'nack' | 'closed';
      publisher?: string;
      priority?: number;
      session?: number;
      persistent?: boolean;
    } = {},
  ) => {
    const size = 64;
    ledger.published({
      id,
      session: opts.session ?? 0,
      publisher: opts.publisher ?? 'c0-p0',
      seq,
      queues: opts.queues ?? [Q],
      priority: opts.priority ?? 0,
      size,
      persistent: opts.persistent,
    });
    if (opts.status) ledger.settled(id, opts.status);
  };
  const deliver = (
    session: number,
    channel: ChannelLog,
    id: string,
    redelivered: boolean,
    queue = Q,
    content?: Buffer,
  ) =>
    ledger.delivered(session, queue, channel, {
      messageId: id,
      content: content ?? messageBody(id, 64),
      redelivered,
      deliveryTag: 1,
      deliveryMode: 2,
      priority: ledger.messages.get(id)?.priority ?? 0,
    });
  return { ledger, publish, deliver };
}

describe('crash harness ledger', () => {
  it('a confirmed copy never delivered is lost; an unconfirmed one is allowed to vanish', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const ch = new ChannelLog('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'closed' });
    publish('m3', 3, { status: 'ack', queues: ['f1', 'f2'] });
    deliver(s0, ch, 'm3', false, 'f1');
    const s = ledger.verify();
    expect(s.lost).toBe(2); // m1, and m3's copy in f2
    expect(s.unconfirmedMissing).toBe(1);
    expect(s.examples.lost.join('\n')).toMatch(/q m1[\s\S]*f2 m3/);
    expect(s.violations).toBe(2);
  });

  it('an ack is proven only by a round trip started after it was sent', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const ch = new ChannelLog('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'ack' });
    const d1 = deliver(s0, ch, 'm1', false);
    const d2 = deliver(s0, ch, 'm2', false);
    const mark = ch.mark(); // round trip sent before either ack
    ledger.acked(ch, [d1]);
    ch.proved(mark);
    expect(ackState(d1)).toBe('in-flight');
    const later = ch.mark();
    ledger.acked(ch, [d2]);
    ch.proved(later);
    expect([ackState(d1), ackState(d2)]).toEqual(['proven', 'in-flight']);
  });

  it('classifies a repeat by the earlier ack: proven (violation), in flight (allowed), none (expected recovery)', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const ch = new ChannelLog('a', s0);
    for (const [i, id] of ['proven', 'inflight', 'unacked'].entries()) publish(id, i + 1, { status: 'ack' });
    const dp = deliver(s0, ch, 'proven', false);
    const di = deliver(s0, ch, 'inflight', false);
    deliver(s0, ch, 'unacked', false);
    const mark = ch.mark();
    ledger.acked(ch, [dp]);
    ch.proved(mark + 1);
    ledger.acked(ch, [di]);
    const s1 = ledger.newSession('cycle');
    const ch1 = new ChannelLog('b', s1);
    for (const id of ['proven', 'inflight', 'unacked']) deliver(s1, ch1, id, true);
    const s = ledger.verify();
    expect(s).toMatchObject({
      provenAckedRedelivered: 1,
      inFlightDuplicates: 1,
      recoveredUnacked: 1,
      redeliveredFlagViolations: 0,
      lost: 0,
    });
    expect(s.violations).toBe(1);
  });

  it('a reply that arrives only after the kill shows the ack was processed, not completed: allowed, reported', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const ch = ledger.channel('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'ack' });
    const d1 = deliver(s0, ch, 'm1', false);
    const d2 = deliver(s0, ch, 'm2', false);
    ledger.acked(ch, [d1]);
    ch.proved(ch.mark()); // before the kill
    ledger.acked(ch, [d2]);
    const mark = ch.mark();
    ledger.sessionEnded(s0);
    ch.proved(mark); // the reply was still in the socket
    expect([ackState(d1), ackState(d2)]).toEqual(['proven', 'processed-at-kill']);
    const s1 = ledger.newSession('cycle');
    const ch1 = ledger.channel('b', s1);
    deliver(s1, ch1, 'm1', true);
    deliver(s1, ch1, 'm2', true);
    expect(ledger.verify()).toMatchObject({
      provenAckedRedelivered: 1,
      inFlightDuplicates: 1,
      processedAtKillDuplicates: 1,
      violations: 1,
    });
  });

  it('redelivered=false is excused only when the earlier delivery reached the harness after the kill', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const ch = ledger.channel('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'ack' });
    deliver(s0, ch, 'm1', false);
    ledger.sessionEnded(s0);
    deliver(s0, ch, 'm2', false);
    const s1 = ledger.newSession('drain');
    const ch1 = ledger.channel('b', s1);
    deliver(s1, ch1, 'm1', false);
    deliver(s1, ch1, 'm2', false);
    expect(ledger.verify()).toMatchObject({
      redeliveredFlagViolations: 1,
      redeliveredFlagLostAtKill: 1,
      violations: 1,
    });
  });

  it('a message delivered before must come back with redelivered=true', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    publish('m1', 1, { status: 'ack' });
    deliver(s0, new ChannelLog('a', s0), 'm1', false);
    const s1 = ledger.newSession('drain');
    deliver(s1, new ChannelLog('b', s1), 'm1', false);
    const s = ledger.verify();
    expect(s).toMatchObject({ redeliveredFlagViolations: 1, recoveredUnacked: 1, violations: 1 });
  });

  it('the same copy twice within one session is a duplicate, whatever the flag', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    publish('m1', 1, { status: 'ack' });
    const ch = new ChannelLog('a', s0);
    deliver(s0, ch, 'm1', false);
    deliver(s0, ch, 'm1', true);
    expect(ledger.verify()).toMatchObject({ sameSessionDuplicates: 1, redeliveredFlagViolations: 0, violations: 1 });
  });

  it('never-delivered messages of one publisher follow publish order per channel, per priority level', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const a = new ChannelLog('a', s0);
    const b = new ChannelLog('b', s0);
    for (let i = 1; i <= 6; i++) publish(`m${i}`, i, { status: 'ack' });
    publish('x1', 1, { status: 'ack', publisher: 'c0-p1' });
    // Two competing consumers: each sees an increasing subsequence, interleaved with the other.
    deliver(s0, a, 'm1', false);
    deliver(s0, b, 'm2', false);
    deliver(s0, a, 'm3', false);
    deliver(s0, b, 'x1', false); // another publisher: its own sequence
    deliver(s0, b, 'm5', false);
    deliver(s0, b, 'm4', false); // behind m5 on the same channel
    deliver(s0, a, 'm6', false);
    expect(ledger.verify()).toMatchObject({ orderViolations: 1 });
    expect(ledger.verify().examples.orderViolations).toEqual(['q on b: m4 arrived after m5']);
  });

  it('redelivered messages may come back anywhere; priority levels are ordered separately', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const a = new ChannelLog('a', s0);
    publish('m1', 1, { status: 'ack', priority: 0 });
    publish('m2', 2, { status: 'ack', priority: 5 });
    publish('m3', 3, { status: 'ack', priority: 0 });
    deliver(s0, a, 'm2', false); // higher priority first
    deliver(s0, a, 'm3', true); // flagged: excluded from the order check
    deliver(s0, a, 'm1', false);
    expect(ledger.verify()).toMatchObject({ orderViolations: 0, spuriousRedeliveredFlags: 1, violations: 0 });
  });

  it('unknown ids, altered bodies, wrong queues and lost properties are corruption', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('cycle');
    const a = new ChannelLog('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'ack' });
    publish('m3', 3, { status: 'ack' });
    const bad = Buffer.from(messageBody('m1', 64));
    bad[40] ^= 1;
    deliver(s0, a, 'm1', false, Q, bad);
    deliver(s0, a, 'ghost', false, Q, Buffer.from('ghost|'));
    deliver(s0, a, 'm2', false, 'other');
    ledger.delivered(s0, Q, a, {
      messageId: 'm3',
      content: messageBody('m3', 64),
      redelivered: false,
      deliveryTag: 9,
      deliveryMode: 1,
    });
    const s = ledger.verify();
    expect(s.corrupt).toBe(4);
    expect(s.examples.corrupt.join('\n')).toMatch(
      /differs[\s\S]*unknown[\s\S]*published for q, delivered from other[\s\S]*delivery-mode 1/,
    );
  });

  it('anything delivered after the final clean restart is a violation', () => {
    const { ledger, publish, deliver } = setup();
    const s0 = ledger.newSession('drain');
    const a = new ChannelLog('a', s0);
    publish('m1', 1, { status: 'ack' });
    publish('m2', 2, { status: 'ack' });
    const d = deliver(s0, a, 'm1', false);
    ledger.acked(a, [d]);
    a.proved(a.acksSent);
    const s1 = ledger.newSession('verify');
    const b = new ChannelLog('b', s1);
    deliver(s1, b, 'm1', true);
    deliver(s1, b, 'm2', false); // missed by the drain
    expect(ledger.verify()).toMatchObject({ afterCleanRestart: 2, provenAckedRedelivered: 0, lost: 0, violations: 2 });
  });

  it('message bodies are deterministic, exactly sized, and start with the id', () => {
    const body = messageBody('c1-p2-3', 1000);
    expect(body.length).toBe(1000);
    expect(body.subarray(0, 8).toString()).toBe('c1-p2-3|');
    expect(messageBody('c1-p2-3', 1000).equals(body)).toBe(true);
    expect(messageBody('c1-p2-4', 1000).equals(body)).toBe(false);
  });
  it('quorum queues: a delivery count that does not grow, or a redelivered flag that disagrees with it, is a violation', () => {
    const { ledger, publish } = setup();
    ledger.quorumQueues.add('qq');
    const sessions = [ledger.newSession('cycle'), ledger.newSession('cycle'), ledger.newSession('cycle')];
    const deliver = (session: number, id: string, redelivered: boolean, deliveryCount?: number) =>
      ledger.delivered(session, 'qq', new ChannelLog(`c${session}`, session), {
        messageId: id,
        content: messageBody(id, 64),
        redelivered,
        deliveryTag: 1,
        deliveryMode: 1,
        priority: 0,
        deliveryCount,
      });
    for (const id of ['ok', 'reset', 'flag']) publish(id, 1, { status: 'ack', queues: ['qq'], persistent: false });
    deliver(sessions[0], 'ok', false);
    deliver(sessions[1], 'ok', true, 1);
    deliver(sessions[2], 'ok', true, 3);
    deliver(sessions[0], 'reset', false);
    deliver(sessions[1], 'reset', true, 2);
    deliver(sessions[2], 'reset', true, 1);
    deliver(sessions[0], 'flag', true);
    const s = ledger.verify();
    expect(s.deliveryCountViolations).toBe(2);
    expect(s.examples.deliveryCountViolations.join('\n')).toMatch(
      /qq reset in session 2: x-delivery-count 1 after 2[\s\S]*qq flag in session 0: redelivered=true with x-delivery-count 0/,
    );
    expect(s.corrupt).toBe(0); // published transient, delivered transient
    expect(s.violations).toBe(2);
  });
});
