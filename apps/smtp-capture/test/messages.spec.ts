// Mail sent with nodemailer over real SMTP, read back through the Mailpit-compatible HTTP API.
import { Harness, startCapture } from './support/capture';

let h: Harness;

beforeEach(async () => {
  h = await startCapture();
});
afterEach(() => h.close());

const order = {
  from: '"Warren Orders" <orders@warren.test>',
  to: 'Ada Lovelace <ada@example.com>',
  cc: 'audit@warren.test',
  replyTo: 'support@warren.test',
  subject: 'Order 42 confirmed',
  text: 'Your order 42 is confirmed.\nThanks!',
  html: '<p>Your order <b>42</b> is confirmed.</p><img src="cid:logo@warren">',
  headers: { 'X-Tags': 'orders, confirmation', 'X-Correlation-Id': 'corr-1' },
  attachments: [
    { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
    {
      filename: 'logo.png',
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      contentType: 'image/png',
      cid: 'logo@warren',
    },
  ],
};

describe('GET /api/v1/messages', () => {
  it('lists an empty mailbox in Mailpit shape', async () => {
    expect(await h.json('/api/v1/messages')).toEqual({
      total: 0,
      unread: 0,
      count: 0,
      messages_count: 0,
      start: 0,
      tags: [],
      messages: [],
    });
  });

  it('summarises a received message with Mailpit field names', async () => {
    const info = await h.send({ ...order, bcc: 'hidden@warren.test' });
    const list = await h.json('/api/v1/messages');
    expect(list).toMatchObject({
      total: 1,
      unread: 1,
      count: 1,
      messages_count: 1,
      start: 0,
      tags: ['confirmation', 'orders'],
    });
    const [summary] = list.messages;
    expect(Object.keys(summary).sort()).toEqual(
      [
        'Attachments',
        'Bcc',
        'Cc',
        'Created',
        'From',
        'ID',
        'MessageID',
        'Read',
        'ReplyTo',
        'Size',
        'Snippet',
        'Subject',
        'Tags',
        'To',
      ].sort(),
    );
    expect(summary).toMatchObject({
      MessageID: info.messageId.replace(/^<|>$/g, ''),
      Read: false,
      From: { Name: 'Warren Orders', Address: 'orders@warren.test' },
      To: [{ Name: 'Ada Lovelace', Address: 'ada@example.com' }],
      Cc: [{ Name: '', Address: 'audit@warren.test' }],
      // nodemailer strips the Bcc header; the envelope still names the recipient.
      Bcc: [{ Name: '', Address: 'hidden@warren.test' }],
      ReplyTo: [{ Name: '', Address: 'support@warren.test' }],
      Subject: 'Order 42 confirmed',
      Tags: ['confirmation', 'orders'],
      Attachments: 1,
      Snippet: 'Your order 42 is confirmed. Thanks!',
    });
    expect(summary.ID).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(summary.Size).toBeGreaterThan(100);
    expect(Date.now() - Date.parse(summary.Created)).toBeLessThan(10_000);
  });

  it('lists newest first and pages with start and limit', async () => {
    for (const n of [1, 2, 3])
      await h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: `m${n}`, text: `${n}` });
    const all = await h.json('/api/v1/messages');
    expect(all.messages.map((m: any) => m.Subject)).toEqual(['m3', 'm2', 'm1']);
    const page = await h.json('/api/v1/messages?start=1&limit=1');
    expect(page).toMatchObject({ total: 3, messages_count: 3, count: 1, start: 1 });
    expect(page.messages.map((m: any) => m.Subject)).toEqual(['m2']);
  });

  it('answers 400 for a bad start or limit', async () => {
    const res = await h.get('/api/v1/messages?limit=-1');
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/"limit" must be a non-negative integer/);
  });
});

describe('GET /api/v1/message/{ID}', () => {
  it('returns text, HTML, addresses, inline parts and attachments, and marks the message read', async () => {
    await h.send(order);
    const [{ ID }] = (await h.json('/api/v1/messages')).messages;
    const message = await h.json(`/api/v1/message/${ID}`);
    expect(Object.keys(message).sort()).toEqual(
      [
        'Attachments',
        'Bcc',
        'Cc',
        'Date',
        'From',
        'HTML',
        'ID',
        'Inline',
        'MessageID',
        'ReplyTo',
        'ReturnPath',
        'Size',
        'Subject',
        'Tags',
        'Text',
        'To',
      ].sort(),
    );
    expect(message).toMatchObject({
      ID,
      From: { Name: 'Warren Orders', Address: 'orders@warren.test' },
      ReturnPath: 'orders@warren.test',
      Subject: 'Order 42 confirmed',
      Text: 'Your order 42 is confirmed.\nThanks!',
      HTML: order.html,
      Tags: ['confirmation', 'orders'],
    });
    expect(message.Attachments).toEqual([
      { PartID: expect.any(String), FileName: 'invoice.pdf', ContentType: 'application/pdf', ContentID: '', Size: 13 },
    ]);
    expect(message.Inline).toEqual([
      { PartID: expect.any(String), FileName: 'logo.png', ContentType: 'image/png', ContentID: 'logo@warren', Size: 4 },
    ]);
    expect(Number.isNaN(Date.parse(message.Date))).toBe(false);

    const after = await h.json('/api/v1/messages');
    expect(after).toMatchObject({ unread: 0, messages: [{ ID, Read: true }] });

    const part = await h.get(`/api/v1/message/${ID}/part/${message.Attachments[0].PartID}`);
    expect(part.status).toBe(200);
    expect(part.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('%PDF-1.4 fake');
  });

  it('serves headers (canonical keys, sorted, every value) and the raw source', async () => {
    await h.send(order);
    const headers = await h.json('/api/v1/message/latest/headers');
    expect(headers['Subject']).toEqual(['Order 42 confirmed']);
    expect(headers['X-Correlation-Id']).toEqual(['corr-1']);
    expect(headers['Message-Id']).toHaveLength(1);
    expect(Object.keys(headers)).toEqual([...Object.keys(headers)].sort());

    const raw = await h.get('/api/v1/message/latest/raw');
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^text\/plain/);
    const source = await raw.text();
    expect(source).toMatch(/^Subject: Order 42 confirmed$/m);
    expect(source).toContain('invoice.pdf');
    expect(source.length).toBe((await h.json('/api/v1/message/latest')).Size);
  });

  it('answers 404 for an unknown ID, on every message route', async () => {
    for (const path of [
      '/api/v1/message/nope',
      '/api/v1/message/nope/raw',
      '/api/v1/message/nope/headers',
      '/api/v1/message/latest',
    ]) {
      const res = await h.get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    await h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: 's', text: 't' });
    expect((await h.get('/api/v1/message/latest/part/9')).status).toBe(404);
  });
});

describe('DELETE /api/v1/messages', () => {
  async function sendThree(): Promise<string[]> {
    for (const n of [1, 2, 3])
      await h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: `m${n}`, text: `${n}` });
    return (await h.json('/api/v1/messages')).messages.map((m: any) => m.ID);
  }

  it('deletes the given IDs and answers "ok"', async () => {
    const [m3, m2, m1] = await sendThree();
    const res = await h.request('DELETE', '/api/v1/messages', { IDs: [m2, 'unknown-id'] });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect((await h.json('/api/v1/messages')).messages.map((m: any) => m.ID)).toEqual([m3, m1]);
    expect((await h.get(`/api/v1/message/${m2}`)).status).toBe(404);
  });

  it('deletes everything with no body or an empty list', async () => {
    await sendThree();
    expect((await h.request('DELETE', '/api/v1/messages')).status).toBe(200);
    expect((await h.json('/api/v1/messages')).total).toBe(0);
    await sendThree();
    expect((await h.request('DELETE', '/api/v1/messages', { IDs: [] })).status).toBe(200);
    expect((await h.json('/api/v1/messages')).total).toBe(0);
  });

  it('answers 400 with a reason for a body that is not JSON or has the wrong shape', async () => {
    await sendThree();
    const bad = await h.request('DELETE', '/api/v1/messages', '{"IDs": [');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/^invalid JSON body/);
    const wrong = await h.request('DELETE', '/api/v1/messages', { IDs: 'all' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/"IDs" must be an array/);
    expect((await h.json('/api/v1/messages')).total).toBe(3);
  });
});

describe('the store', () => {
  it('keeps only the newest maxMessages', async () => {
    await h.close();
    h = await startCapture({ maxMessages: 2 });
    for (const n of [1, 2, 3])
      await h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: `m${n}`, text: `${n}` });
    const list = await h.json('/api/v1/messages');
    expect(list.total).toBe(2);
    expect(list.messages.map((m: any) => m.Subject)).toEqual(['m3', 'm2']);
  });

  it('refuses a message over maxMessageSize with a 552 the sender sees, and keeps nothing', async () => {
    await h.close();
    h = await startCapture({ maxMessageSize: 2000 });
    await expect(
      h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: 'big', text: 'x'.repeat(5000) }),
    ).rejects.toMatchObject({
      responseCode: 552,
    });
    expect((await h.json('/api/v1/messages')).total).toBe(0);
    await h.send({ from: 'a@warren.test', to: 'b@warren.test', subject: 'small', text: 'ok' });
    expect((await h.json('/api/v1/messages')).total).toBe(1);
  });

  it('keeps a malformed message with what could be parsed', async () => {
    await h.send({
      envelope: { from: 'a@warren.test', to: ['b@warren.test'] },
      raw: 'this is not\r\nan RFC 5322 message\r\n',
    });
    const message = await h.json('/api/v1/message/latest');
    expect(message).toMatchObject({
      From: null,
      To: [],
      Bcc: [{ Name: '', Address: 'b@warren.test' }],
      ReturnPath: 'a@warren.test',
      Subject: '',
    });
  });
});

describe('search, read status, other routes', () => {
  beforeEach(async () => {
    await h.send({ from: 'orders@warren.test', to: 'ada@example.com', subject: 'Order confirmed', text: 'confirmed' });
    await h.send({
      from: 'orders@warren.test',
      to: 'grace@example.com',
      subject: 'Order cancelled',
      text: 'out of stock',
    });
  });

  it('GET /api/v1/search filters with to:, subject:, quoted phrases and negation', async () => {
    const subjects = async (query: string) =>
      (await h.json(`/api/v1/search?query=${encodeURIComponent(query)}`)).messages.map((m: any) => m.Subject);
    expect(await subjects('to:grace@example.com')).toEqual(['Order cancelled']);
    expect(await subjects('subject:order')).toEqual(['Order cancelled', 'Order confirmed']);
    expect(await subjects('"out of stock"')).toEqual(['Order cancelled']);
    expect(await subjects('subject:order -to:ada')).toEqual(['Order cancelled']);
    const result = await h.json('/api/v1/search?query=to:ada');
    expect(result).toMatchObject({ total: 2, messages_count: 1, count: 1 });
    expect((await h.get('/api/v1/search')).status).toBe(400);
    expect((await h.get('/api/v1/search?query=before:2020-01-01')).status).toBe(400);
  });

  it('DELETE /api/v1/search deletes only the matches', async () => {
    expect((await h.request('DELETE', '/api/v1/search?query=to:nobody')).status).toBe(200);
    expect((await h.json('/api/v1/messages')).total).toBe(2);
    expect((await h.request('DELETE', '/api/v1/search?query=to:grace')).status).toBe(200);
    expect((await h.json('/api/v1/messages')).messages.map((m: any) => m.Subject)).toEqual(['Order confirmed']);
  });

  it('PUT /api/v1/messages sets the read flag', async () => {
    expect((await h.request('PUT', '/api/v1/messages', { Read: true })).status).toBe(200);
    expect((await h.json('/api/v1/messages')).unread).toBe(0);
    expect((await h.request('PUT', '/api/v1/messages', { Read: 'yes' })).status).toBe(400);
  });

  it('PUT /api/v1/messages answers 400, not 500, to a body that is not an object (found by the HTTP fuzzer)', async () => {
    for (const body of ['null', '[]', '"x"', '1']) {
      const res = await h.request('PUT', '/api/v1/messages', body);
      expect([body, res.status, await res.text()]).toEqual([
        body,
        400,
        'body must be a JSON object like {"IDs": ["..."], "Read": true}',
      ]);
    }
    expect((await h.json('/api/v1/messages')).unread).toBe(2);
  });

  it('serves /health, /api/v1/info, the HTML index and /view, and 404/405 for the rest', async () => {
    expect((await h.get('/health')).status).toBe(200);
    expect(await h.json('/api/v1/info')).toMatchObject({ Messages: 2, Unread: 2, RuntimeStats: { SMTPAccepted: 2 } });
    const index = await h.get('/');
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('Order cancelled');
    expect((await (await h.get('/view/latest.txt')).text()).trimEnd()).toBe('out of stock');
    expect((await h.get('/view/latest.html')).status).toBe(404);
    expect((await h.get('/api/v2/nothing')).status).toBe(404);
    const wrongMethod = await h.request('POST', '/api/v1/messages', {});
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, PUT, DELETE');
  });
});

describe('query and path parameters', () => {
  it.each([
    ['a repeated limit', '/api/v1/messages?limit=1&limit=2', '"limit" is given 2 times; give it once'],
    ['a start that is not a number', '/api/v1/messages?start=abc', '"start" must be a non-negative integer, got "abc"'],
    ['a search without a query', '/api/v1/search?query=%20', '"query" is required'],
    ['a repeated search query', '/api/v1/search?query=to:a&query=to:b', '"query" is given 2 times; give it once'],
    [
      'a message ID with a control character',
      '/api/v1/message/abc%0Adef',
      '"id" must be 1 to 64 letters, digits, ".", "_" or "-"',
    ],
    [
      'a part ID with a slash',
      '/api/v1/message/latest/part/1%2F2',
      '"part" must be 1 to 64 letters, digits, ".", "_" or "-"',
    ],
  ])('answers 400 naming the parameter for %s', async (_what, path, reason) => {
    const res = await h.get(path);
    expect([res.status, await res.text()]).toEqual([400, reason]);
  });

  it('lets parameters it does not know through, as Mailpit does', async () => {
    expect((await h.get('/api/v1/messages?tz=Europe/Paris')).status).toBe(200);
  });
});
