// One upstream poll per source, shared: against a real HTTP server that counts its requests, goes away and
// comes back.
import { createServer, type Server } from 'node:http';
import { SharedSource, getJson, type SourceState } from '../src/server/shared-source';
import { eventually } from '../../../tools/testing/eventually';

interface Upstream {
  url: string;
  hits: number;
  auth: string[];
  status: number;
  body: string;
  close(): Promise<void>;
}

async function upstream(): Promise<Upstream> {
  const u = { hits: 0, auth: [] as string[], status: 200, body: '{"n":1}' } as Upstream;
  const server: Server = createServer((req, res) => {
    u.hits += 1;
    u.auth.push(req.headers.authorization ?? '');
    res.writeHead(u.status, { 'content-type': 'application/json' });
    res.end(u.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
  u.close = () => new Promise((r) => server.close(() => r()));
  return u;
}

describe('SharedSource', () => {
  it('polls once per interval however many subscribers there are, and only while there is one', async () => {
    const up = await upstream();
    const source = new SharedSource({ name: 'test', intervalMs: 50, fetch: (signal) => getJson(up.url, signal) });
    const seen: Array<Array<SourceState<unknown>>> = [[], [], []];
    const unsubscribe = seen.map((list) => source.subscribe((s) => list.push(s)));
    await eventually('five polls', () => (source.requests >= 5 ? true : undefined));
    expect(up.hits).toBe(source.requests); // one upstream request per poll, not one per subscriber
    // the same data every time: each subscriber heard it once
    for (const list of seen) expect(list).toEqual([expect.objectContaining({ status: 'ok', data: { n: 1 } })]);
    unsubscribe.forEach((u) => u());
    const after = up.hits;
    await new Promise((r) => setTimeout(r, 200)); // a window in which a leaked timer would poll several times
    expect(up.hits - after).toBeLessThanOrEqual(1); // at most the poll already in flight
    await up.close();
  });

  it('reports an unreachable source with the reason and since when, keeps the last good data, and recovers', async () => {
    const up = await upstream();
    const source = new SharedSource({ name: 'orders API', intervalMs: 30, fetch: (signal) => getJson(up.url, signal) });
    const states: Array<SourceState<unknown>> = [];
    const unsubscribe = source.subscribe((s) => states.push(s));
    await eventually('the first answer', () => (states.length ? true : undefined));

    up.status = 503;
    const down = await eventually('the outage to show', () => states.find((s) => s.status === 'unreachable'));
    expect(down).toMatchObject({
      status: 'unreachable',
      error: `orders API: GET ${up.url} answered 503`,
      data: { n: 1 },
      since: expect.any(String),
    });
    const countWhileDown = states.length;
    await eventually('more polls while down', () => (source.requests >= 6 ? true : undefined));
    expect(states.length).toBe(countWhileDown); // the same outage is not news

    up.status = 200;
    up.body = '{"n":2}';
    await eventually('the recovery', () =>
      states.at(-1)?.status === 'ok' && (states.at(-1) as { data: unknown }).data ? true : undefined,
    );
    expect(states.at(-1)).toMatchObject({ status: 'ok', data: { n: 2 } });
    unsubscribe();

    await up.close();
    // a port nothing listens on: a refused connection
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const goneUrl = `http://127.0.0.1:${(closed.address() as { port: number }).port}/api`;
    await new Promise((r) => closed.close(r));
    const gone = new SharedSource({ name: 'gone', intervalMs: 30, fetch: (signal) => getJson(goneUrl, signal) });
    const last: Array<SourceState<unknown>> = [];
    const u2 = gone.subscribe((s) => last.push(s));
    await eventually('the refusal', () => (last.length ? true : undefined));
    expect(last[0]).toMatchObject({ status: 'unreachable', error: `gone: GET ${goneUrl} failed (ECONNREFUSED)` });
    expect(last[0]).not.toHaveProperty('data');
    u2();
  });

  it('sends URL credentials as Basic auth and never shows them in an error', async () => {
    const up = await upstream();
    const withCreds = up.url.replace('http://', 'http://guest:s%3Acret@');
    await expect(getJson(withCreds)).resolves.toEqual({ n: 1 });
    expect(up.auth.at(-1)).toBe(`Basic ${Buffer.from('guest:s:cret').toString('base64')}`);
    up.body = 'not json';
    await expect(getJson(withCreds)).rejects.toThrow(`GET ${up.url} answered with a body that is not JSON`);
    up.status = 401;
    const err = (await getJson(withCreds).catch((e: Error) => e)) as Error;
    expect(err.message).toBe(`GET ${up.url} answered 401`);
    expect(err.message).not.toContain('cret');
    await up.close();
  });

  it('gives up on a poll that takes longer than its timeout, saying so', async () => {
    const server = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const source = new SharedSource({
      name: 'slow',
      intervalMs: 1000,
      timeoutMs: 100,
      fetch: (signal) => getJson(url, signal),
    });
    const states: Array<SourceState<unknown>> = [];
    const u = source.subscribe((s) => states.push(s));
    await eventually('the timeout', () => (states.length ? true : undefined), 5000);
    expect(states[0]).toMatchObject({ status: 'unreachable', error: 'slow: no answer in time' });
    u();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
