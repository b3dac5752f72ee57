import { fromPlain, tableFromPlain, type FieldTable, type FieldValue } from '@warren/amqp-protocol';
import { ChannelError, ConnectionError } from '../errors';
import {
  assertArgsEquivalence,
  deadLetterExchangeArg,
  effectiveDeadLetterStrategy,
  equivalenceArgs,
  erlangFloat,
  parseQueueArguments,
  queueSettings,
} from './queue-arguments';

const t = (type: string, value: unknown): FieldValue => fromPlain({ '!': type, value });
const table = (entries: Record<string, FieldValue>): FieldTable => new Map(Object.entries(entries));
const array = (...items: FieldValue[]): FieldValue => ({ type: 'A', value: items });
const fields = (entries: Record<string, FieldValue>): FieldValue => ({ type: 'F', value: table(entries) });

/** What assertArgsEquivalence throws for `received` against `current` (one argument, x-max-length unless named). */
function compare(received: FieldValue | undefined, current: FieldValue | undefined, key = 'x-max-length') {
  try {
    assertArgsEquivalence(
      'queue',
      'q',
      '/',
      table(received ? { [key]: received } : {}),
      table(current ? { [key]: current } : {}),
      equivalenceArgs('classic'),
    );
    return 'ok';
  } catch (e) {
    if (e instanceof ConnectionError) return `connection ${e.code} ${e.text}`;
    if (e instanceof ChannelError) return `${e.code} ${e.text}`;
    throw e;
  }
}

function declare(args: Record<string, unknown>, exclusive = false) {
  try {
    parseQueueArguments('q', tableFromPlain(args), '/', exclusive);
    return 'ok';
  } catch (e) {
    if (e instanceof ConnectionError) return `connection ${e.code} ${e.text}`;
    return (e as ChannelError).text
      .replace('PRECONDITION_FAILED - invalid arg ', '')
      .replace(" for queue 'q' in vhost '/'", '');
  }
}

describe('queue argument equivalence (rabbit_misc:assert_args_equivalence)', () => {
  const ints = ['byte', 'unsignedbyte', 'short', 'unsignedshort', 'int', 'unsignedint', 'long', 'timestamp'];

  it('takes the same number in any integer type as equivalent, 64-bit values beyond 2^53 included', () => {
    for (const a of ints) for (const b of ints) expect(compare(t(a, 5), t(b, 5))).toBe('ok');
    expect(compare(t('long', 2n ** 60n), t('timestamp', 2n ** 60n))).toBe('ok');
    expect(compare(t('long', 2n ** 60n), t('long', 2n ** 60n + 1n))).toContain(
      "received '1152921504606846976' but current is '1152921504606846977'",
    );
  });

  it('refuses a different number, a float of the same value and a string of its digits, naming both values', () => {
    const text = (r: string, c: string) =>
      `406 PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '${r}' but current is '${c}'`;
    expect(compare(t('long', 6), t('int', 5))).toBe(text('6', '5'));
    expect(compare(t('double', 5), t('int', 5))).toBe(text('5.0', '5'));
    expect(compare(t('float', 5), t('byte', 5))).toBe(text('5.0', '5'));
    expect(compare(t('string', '5'), t('int', 5))).toBe(text('5', '5'));
    expect(compare(t('bool', true), t('string', 'true'))).toBe(text('true', 'true'));
  });

  it('takes float and double of one value as equivalent, and a longstr and a binary of the same bytes', () => {
    expect(compare(t('float', 1.5), t('double', 1.5))).toBe('ok');
    expect(compare(t('float', Math.fround(0.1)), t('double', 0.1))).toContain(
      "received '0.10000000149011612' but current is '0.1'",
    );
    expect(compare(t('binary', Buffer.from('abc')), t('string', 'abc'))).toBe('ok');
    expect(compare(t('binary', Buffer.from('abd')), t('string', 'abc'))).toContain(
      "received 'abd' but current is 'abc'",
    );
  });

  it('names the value and its type when only one side has the argument', () => {
    expect(compare(undefined, t('short', 1000))).toContain(
      "received none but current is the value '1000' of type 'short'",
    );
    expect(compare(t('bool', true), undefined)).toContain(
      "received the value 'true' of type 'bool' but current is none",
    );
    expect(compare(t('void', null), undefined)).toContain(
      "received the value 'undefined' of type 'void' but current is none",
    );
    expect(compare(t('decimal', { places: 1, digits: 5 }), undefined)).toContain(
      "received the value '{1,5}' of type 'decimal' but current is none",
    );
    expect(compare(array(t('byte', 1), t('string', 'a')), undefined)).toContain(
      `received the value '[{byte,1},{longstr,<<"a">>}]' of type 'array' but current is none`,
    );
    expect(compare(fields({ a: t('byte', 1) }), undefined)).toContain(
      `received the value '[{<<"a">>,byte,1}]' of type 'table' but current is none`,
    );
  });

  it('compares arrays and tables element by element, in order and with their types', () => {
    expect(compare(array(t('byte', 1), t('string', 'a')), array(t('byte', 1), t('string', 'a')))).toBe('ok');
    expect(compare(array(t('long', 1)), array(t('byte', 1)))).toContain(
      "received '[{long,1}]' but current is '[{byte,1}]'",
    );
    expect(compare(array(t('byte', 1)), array(t('byte', 1), t('byte', 2)))).toContain('inequivalent');
    expect(compare(fields({ a: t('byte', 1), b: t('byte', 2) }), fields({ a: t('byte', 1), b: t('byte', 2) }))).toBe(
      'ok',
    );
    expect(
      compare(fields({ b: t('byte', 2), a: t('byte', 1) }), fields({ a: t('byte', 1), b: t('byte', 2) })),
    ).toContain('inequivalent');
    expect(compare(fields({}), array())).toBe('ok');
    expect(compare(fields({ a: t('byte', 1) }), array(t('byte', 1)))).toContain('inequivalent');
  });

  it('crashes (541 on the connection) when a decimal that differs would have to be printed', () => {
    const dec = (places: number, digits: number) => t('decimal', { places, digits });
    expect(compare(dec(1, 5), dec(1, 5))).toBe('ok');
    expect(compare(dec(0, 5), dec(1, 5))).toBe('connection 541 INTERNAL_ERROR');
    expect(compare(dec(0, 5), t('int', 5))).toBe('connection 541 INTERNAL_ERROR');
    expect(compare(t('int', 5), dec(0, 5))).toBe('connection 541 INTERNAL_ERROR');
  });

  it("takes an absent x-queue-type as 'classic', and only there", () => {
    expect(compare(t('string', 'classic'), undefined, 'x-queue-type')).toBe('ok');
    expect(compare(undefined, t('string', 'classic'), 'x-queue-type')).toBe('ok');
    expect(compare(t('string', 'quorum'), t('string', 'classic'), 'x-queue-type')).toContain(
      "received 'quorum' but current is 'classic'",
    );
    expect(compare(t('binary', Buffer.from('classic')), undefined, 'x-queue-type')).toContain(
      "of type 'binary' but current is none",
    );
    expect(compare(t('string', 'classic'), undefined, 'x-queue-mode')).toContain('inequivalent');
  });

  it('reports the first differing argument in the order of the keys, not of the tables', () => {
    const received = tableFromPlain({ 'x-max-length': 1, 'x-expires': 2000 });
    const current = tableFromPlain({ 'x-max-length': 2, 'x-expires': 1000 });
    expect(() => assertArgsEquivalence('queue', 'q', '/', received, current, equivalenceArgs('classic'))).toThrow(
      "inequivalent arg 'x-expires'",
    );
    // arguments outside the keys are not compared
    expect(() =>
      assertArgsEquivalence(
        'queue',
        'q',
        '/',
        tableFromPlain({ 'x-other': 1 }),
        tableFromPlain({}),
        equivalenceArgs('classic'),
      ),
    ).not.toThrow();
  });
});

describe('erlangFloat (io_lib_format:fwrite_g)', () => {
  it.each([
    [5, '5.0'],
    [1.5, '1.5'],
    [-2.5, '-2.5'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.1, '0.1'],
    [100, '100.0'],
    [1e5, '1.0e5'],
    [123456, '123456.0'],
    [1234567, '1234567.0'],
    [0.001, '0.001'],
    [0.0001, '0.0001'],
    [1.5e-4, '1.5e-4'],
    [1e-5, '1.0e-5'],
    [1e15, '1.0e15'],
    [123456789012.5, '123456789012.5'],
    [123456789012345680, '1.2345678901234568e17'],
    [1.2345678901234567e19, '1.2345678901234567e19'],
    [5e-324, '5.0e-324'],
    [1.7976931348623157e308, '1.7976931348623157e308'],
    [Math.fround(0.1), '0.10000000149011612'],
  ])('%p prints as %s', (x, text) => expect(erlangFloat(x)).toBe(text));
});

describe('queue arguments at creation (rabbit_amqqueue:check_declare_arguments)', () => {
  it('refuses x-dead-letter-routing-key without x-dead-letter-exchange, after checking its type', () => {
    expect(declare({ 'x-dead-letter-routing-key': 'rk' })).toBe(
      "'x-dead-letter-routing-key': routing_key_but_no_dlx_defined",
    );
    expect(declare({ 'x-dead-letter-routing-key': { '!': 'byte', value: 5 } })).toBe(
      "'x-dead-letter-routing-key': {unacceptable_type,byte}",
    );
    expect(declare({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'rk' })).toBe('ok');
  });

  it('reads x-dead-letter-exchange first: a name, or 406 invalid type', () => {
    expect(deadLetterExchangeArg('q', tableFromPlain({ 'x-dead-letter-exchange': 'dlx' }))).toBe('dlx');
    expect(deadLetterExchangeArg('q', tableFromPlain({}))).toBeUndefined();
    expect(() =>
      deadLetterExchangeArg('q', tableFromPlain({ 'x-dead-letter-exchange': { '!': 'long', value: 1 } }), 'v'),
    ).toThrow("PRECONDITION_FAILED - invalid type 'long' for arg 'x-dead-letter-exchange' in queue 'q' in vhost 'v'");
  });

  it('words unknown queue modes, types and versions as RabbitMQ', () => {
    expect(declare({ 'x-queue-mode': 'bogus' })).toBe(`'x-queue-mode': "unsupported queue mode 'bogus'"`);
    expect(declare({ 'x-queue-type': 'bogus' })).toBe(`'x-queue-type': "unsupported queue type 'bogus'"`);
    expect(declare({ 'x-queue-type': 5 })).toBe("'x-queue-type': {unacceptable_type,signedint}");
    expect(declare({ 'x-queue-version': 3 })).toBe(`'x-queue-version': "unsupported queue version '3'"`);
    expect(declare({ 'x-queue-version': 0 })).toBe(`'x-queue-version': "unsupported queue version '0'"`);
    expect(declare({ 'x-queue-version': -1 })).toBe("'x-queue-version': {value_negative,-1}");
    expect(declare({ 'x-queue-version': 2, 'x-queue-mode': 'lazy', 'x-queue-type': 'classic' })).toBe('ok');
    // streams are refused, not half-supported; quorum queues are implemented
    expect(declare({ 'x-queue-type': 'stream' })).toBe("'x-queue-type': invalid_queue_type");
    expect(declare({ 'x-queue-type': 'quorum' })).toBe('ok');
  });

  it("validates a quorum queue's arguments with the quorum validators and refuses classic and stream ones", () => {
    const quorum = (args: Record<string, unknown>) => declare({ 'x-queue-type': 'quorum', ...args });
    expect(quorum({ 'x-dead-letter-strategy': 'bogus' })).toBe("'x-dead-letter-strategy': invalid_dlx_strategy");
    expect(quorum({ 'x-quorum-initial-group-size': 0 })).toBe("'x-quorum-initial-group-size': {value_zero,0}");
    expect(quorum({ 'x-queue-leader-locator': 'bogus' })).toBe("'x-queue-leader-locator': invalid_queue_locator_arg");
    expect(quorum({ 'x-max-in-memory-bytes': -1 })).toBe("'x-max-in-memory-bytes': {value_negative,-1}");
    expect(quorum({ 'x-max-priority': 5 })).toBe("'x-max-priority' of queue type rabbit_quorum_queue");
    expect(quorum({ 'x-queue-master-locator': 'bogus' })).toBe(
      "'x-queue-master-locator' of queue type rabbit_quorum_queue",
    );
    // the quorum validators come before other types' arguments, whatever the table order
    expect(declare({ 'x-max-age': '1D', 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'x' })).toBe(
      "'x-dead-letter-strategy': invalid_dlx_strategy",
    );
    expect(
      quorum({
        'x-delivery-limit': 'many',
        'x-quorum-initial-group-size': 3,
        'x-queue-leader-locator': 'least-leaders',
      }),
    ).toBe('ok');
  });

  it('reads x-delivery-limit as RabbitMQ compares it, and the dead-letter strategy in force', () => {
    const settings = (args: Record<string, unknown>) =>
      queueSettings(tableFromPlain({ 'x-queue-type': 'quorum', ...args }));
    expect(settings({}).deliveryLimit).toBeUndefined();
    expect(settings({ 'x-delivery-limit': 3 }).deliveryLimit).toBe(3);
    expect(settings({ 'x-delivery-limit': -1 }).deliveryLimit).toBe(-1);
    expect(settings({ 'x-delivery-limit': 'many' }).deliveryLimit).toBe(Infinity);
    const strategy = (args: Record<string, unknown>) =>
      effectiveDeadLetterStrategy(settings({ 'x-dead-letter-strategy': 'at-least-once', ...args }));
    expect(strategy({ 'x-dead-letter-exchange': 'x', 'x-overflow': 'reject-publish' })).toBe('at-least-once');
    expect(strategy({ 'x-overflow': 'reject-publish' })).toBe('at-most-once');
    expect(strategy({ 'x-dead-letter-exchange': 'x' })).toBe('at-most-once');
    expect(strategy({ 'x-dead-letter-exchange': 'x', 'x-overflow': 'reject-publish-dlx' })).toBe('at-most-once');
  });

  it('reports x-queue-type first, then the first invalid argument in RabbitMQ order, then other queue types arguments in table order', () => {
    expect(declare({ 'x-max-length': -1, 'x-expires': 0 })).toBe("'x-expires': {value_zero,0}");
    expect(declare({ 'x-max-length': -1, 'x-queue-type': 'bogus' })).toBe(
      `'x-queue-type': "unsupported queue type 'bogus'"`,
    );
    expect(declare({ 'x-delivery-limit': 1, 'x-max-length': -1 })).toBe("'x-max-length': {value_negative,-1}");
    expect(declare({ 'x-max-age': '1D', 'x-delivery-limit': 1 })).toBe(
      "'x-max-age' of queue type rabbit_classic_queue",
    );
    expect(declare({ 'x-delivery-limit': 1, 'x-max-age': '1D' })).toBe(
      "'x-delivery-limit' of queue type rabbit_classic_queue",
    );
  });

  it('crashes on an unknown x-queue-master-locator unless the queue is exclusive', () => {
    for (const locator of ['client-local', 'min-masters', 'random'])
      expect(declare({ 'x-queue-master-locator': locator })).toBe('ok');
    expect(declare({ 'x-queue-master-locator': 'bogus' })).toBe('connection 541 INTERNAL_ERROR');
    expect(declare({ 'x-queue-master-locator': 5 })).toBe('connection 541 INTERNAL_ERROR');
    expect(declare({ 'x-queue-master-locator': 'bogus' }, true)).toBe('ok');
    expect(declare({ 'x-queue-master-locator': 5 }, true)).toBe('ok');
  });

  it('leaves arguments of a recovered queue unvalidated: what an older version stored still loads', () => {
    const stored = tableFromPlain({
      'x-dead-letter-routing-key': 'rk',
      'x-queue-master-locator': 'bogus',
      'x-delivery-limit': 1,
      'x-max-length': 7,
    });
    expect(declare({ 'x-dead-letter-routing-key': 'rk' })).not.toBe('ok');
    expect(queueSettings(stored)).toMatchObject({ deadLetterRoutingKey: 'rk', maxLength: 7, overflow: 'drop-head' });
  });
});
