// Warren's fault injection (not a Mailpit route): planned SMTP failures so a sender's retries can be shown.
import { Harness, startCapture } from './support/capture';

let h: Harness;

beforeEach(async () => {
  h = await startCapture();
});
afterEach(() => h.close());

const mail = (subject: string) => ({
  from: 'notifications@warren.test',
  to: 'ada@example.com',
  subject,
  text: subject,
});

describe('/api/warren/fail-next', () => {
  it('starts with nothing planned', async () => {
    expect(await h.json('/api/warren/fail-next')).toEqual({ remaining: 0, code: 421 });
  });

  it('fails the next n deliveries with a temporary 421, then accepts again', async () => {
    const res = await h.request('POST', '/api/warren/fail-next', { count: 2 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ remaining: 2, code: 421 });

    for (const remaining of [1, 0]) {
      const error = await h.send(mail('attempt')).then(
        () => undefined,
        (e: any) => e,
      );
      expect(error).toMatchObject({ responseCode: 421 });
      expect(String(error.response)).toMatch(/Warren fail-next: injected temporary failure/);
      expect(await h.json('/api/warren/fail-next')).toEqual({ remaining, code: 421 });
    }
    expect((await h.json('/api/v1/messages')).total).toBe(0);

    await h.send(mail('delivered'));
    const list = await h.json('/api/v1/messages');
    expect(list.messages.map((m: any) => m.Subject)).toEqual(['delivered']);
    expect(await h.json('/api/v1/info')).toMatchObject({ RuntimeStats: { SMTPAccepted: 1, SMTPRejected: 2 } });
  });

  it('can plan a permanent 5xx failure instead', async () => {
    await h.request('POST', '/api/warren/fail-next', { count: 1, code: 550 });
    await expect(h.send(mail('refused'))).rejects.toMatchObject({ responseCode: 550 });
    await h.send(mail('accepted'));
    expect((await h.json('/api/v1/messages')).total).toBe(1);
  });

  it('count 0 and DELETE clear the plan', async () => {
    await h.request('POST', '/api/warren/fail-next', { count: 3, code: 451 });
    expect(await (await h.request('POST', '/api/warren/fail-next', { count: 0 })).json()).toEqual({
      remaining: 0,
      code: 421,
    });
    await h.request('POST', '/api/warren/fail-next', { count: 3 });
    expect(await (await h.request('DELETE', '/api/warren/fail-next')).json()).toEqual({ remaining: 0, code: 421 });
    await h.send(mail('accepted'));
  });

  it('answers 400 with a reason for a bad body and keeps the plan unchanged', async () => {
    const cases: [string | object, RegExp][] = [
      ['{"count": ', /^invalid JSON body/],
      ['', /body must be a JSON object/],
      [[1], /body must be a JSON object/],
      [{}, /"count" must be a non-negative integer/],
      [{ count: -1 }, /"count" must be a non-negative integer/],
      [{ count: 1.5 }, /"count" must be a non-negative integer/],
      [{ count: 1, code: 250 }, /"code" must be an SMTP error code from 400 to 599/],
      [{ count: 1, code: '421' }, /"code" must be an SMTP error code/],
      // found by the HTTP fuzzer (e2e/http-fuzz.spec.ts): the reason echoed the value with JSON.stringify, which
      // overflowed the stack on deep nesting (a 500) and sent a huge string back whole
      [
        '{"count":1,"code":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5001),
        /"code" must be an SMTP error code from 400 to 599, got an object$/,
      ],
      [{ count: 'x'.repeat(100_000) }, /"count" must be a non-negative integer, got a string of 100000 characters$/],
      [{ count: [1] }, /got an array$/],
    ];
    for (const [body, reason] of cases) {
      const res = await h.request('POST', '/api/warren/fail-next', body);
      expect([body, res.status]).toEqual([body, 400]);
      expect(await res.text()).toMatch(reason);
    }
    expect(await h.json('/api/warren/fail-next')).toEqual({ remaining: 0, code: 421 });
  });
});
