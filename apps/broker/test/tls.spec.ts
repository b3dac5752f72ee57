// amqps: a test CA made with openssl here (Debian's), a server certificate for 127.0.0.1, client certificates
// from that CA and from a rogue one; amqplib and a second client (our own codec over node:tls) connect, and
// every way in that should fail is refused while the broker keeps serving others.
import * as P from '@warren/amqp-protocol';
import * as amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { RunningBroker, startBroker } from '../src/testing';

const dir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFileSync(file(name));

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/** A CA, and a certificate signed by it for `cn` (with the SANs given). */
function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  );
}
function makeCert(name: string, ca: string, san?: string): void {
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  const extensions = san ? ['-extfile', writeExt(name, san)] : [];
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    ...extensions,
  );
}
function writeExt(name: string, san: string): string {
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  return `${name}.ext`;
}

/** The AMQP handshake over a TLS socket with our codec: resolves true at connection.open-ok. */
async function rawAmqps(socket: TLSSocket): Promise<boolean> {
  const parser = new P.FrameParser(1024 * 1024);
  return new Promise<boolean>((resolve) => {
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    socket.on('data', (chunk) =>
      parser.push(chunk, (type, _channel, payload) => {
        if (type !== P.FRAME_METHOD) return;
        const method = P.decodeMethod(payload);
        if (method.id === P.CONNECTION_START)
          socket.write(
            P.encodeMethodFrame(0, P.CONNECTION_START_OK, {
              clientProperties: new Map(),
              mechanism: 'PLAIN',
              response: Buffer.from('\u0000guest\u0000guest'),
              locale: 'en_US',
            }),
          );
        if (method.id === P.CONNECTION_TUNE) {
          socket.write(P.encodeMethodFrame(0, P.CONNECTION_TUNE_OK, { channelMax: 0, frameMax: 131072, heartbeat: 0 }));
          socket.write(P.encodeMethodFrame(0, P.CONNECTION_OPEN, { virtualHost: '/' }));
        }
        if (method.id === P.CONNECTION_OPEN_OK) {
          resolve(true);
          socket.destroy();
        }
      }),
    );
    socket.once('secureConnect', () => socket.write(P.PROTOCOL_HEADER));
  });
}

/** What a TLS client gets: 'open' (AMQP open-ok) or the error that stopped it. */
function tlsClient(port: number, options: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<string> {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
  let error = '';
  socket.on('error', (e) => (error = e.message));
  return rawAmqps(socket).then((opened) => (opened ? 'open' : error || 'closed'));
}

async function served(url: string, options: object): Promise<void> {
  const conn = await amqp.connect(url, options);
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(q.queue, Buffer.from('over tls'));
  let got: amqp.GetMessage | false = false;
  while (!got) got = await ch.get(q.queue, { noAck: true });
  expect(got.content.toString()).toBe('over tls');
  await conn.close();
}

describe('amqps', () => {
  let broker: RunningBroker;
  let strict: RunningBroker;
  let secureApi: RunningBroker;

  beforeAll(async () => {
    makeCa('ca');
    makeCa('rogue');
    makeCert('server', 'ca', 'IP:127.0.0.1,DNS:localhost');
    makeCert('client', 'ca');
    makeCert('intruder', 'rogue');
    const tls = { port: 0, cert: pem('server.pem'), key: pem('server.key'), ca: pem('ca.pem') };
    broker = await startBroker({ tls: { ...tls, verifyPeer: true } });
    strict = await startBroker({ tls: { ...tls, verifyPeer: true, failIfNoPeerCert: true } });
    secureApi = await startBroker({ tls, managementPort: 0, managementTls: true });
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
    await strict?.close();
    await secureApi?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const amqpsUrl = (b: RunningBroker) => `amqps://guest:guest@127.0.0.1:${b.broker.tlsPort}`;

  it('serves amqplib over TLS, with or without a client certificate', async () => {
    await served(amqpsUrl(broker), { ca: [pem('ca.pem')], servername: 'localhost' });
    await served(amqpsUrl(broker), {
      ca: [pem('ca.pem')],
      cert: pem('client.pem'),
      key: pem('client.key'),
      servername: 'localhost',
    });
  });

  it('serves a second client (our codec over node:tls)', async () => {
    expect(await tlsClient(broker.broker.tlsPort!, { ca: pem('ca.pem') })).toBe('open');
  });

  it('refuses a client certificate from another CA, and serves others on', async () => {
    const outcome = await tlsClient(broker.broker.tlsPort!, {
      ca: pem('ca.pem'),
      cert: pem('intruder.pem'),
      key: pem('intruder.key'),
    });
    expect(outcome).not.toBe('open');
    await served(amqpsUrl(broker), { ca: [pem('ca.pem')], servername: 'localhost' });
  });

  it('with fail_if_no_peer_cert, refuses a client without a certificate and accepts one with', async () => {
    expect(await tlsClient(strict.broker.tlsPort!, { ca: pem('ca.pem') })).not.toBe('open');
    expect(
      await tlsClient(strict.broker.tlsPort!, { ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') }),
    ).toBe('open');
  });

  it('a client that does not trust the server certificate stops; the broker serves on', async () => {
    expect(await tlsClient(broker.broker.tlsPort!, { ca: pem('rogue.pem') })).toMatch(
      /self.signed|unable to verify|certificate/i,
    );
    await served(amqpsUrl(broker), { ca: [pem('ca.pem')], servername: 'localhost' });
  });

  it('plain AMQP on the TLS port is dropped, and TLS on the plain port is answered with the AMQP header and closed', async () => {
    const plain = tcpConnect({ host: '127.0.0.1', port: broker.broker.tlsPort! });
    plain.on('error', () => undefined);
    plain.write(P.PROTOCOL_HEADER);
    await new Promise<void>((resolve) => plain.once('close', () => resolve()));

    const wrongPort = await tlsClient(broker.port, { ca: pem('ca.pem') });
    expect(wrongPort).toMatch(
      /wrong version number|packet length too long|ssl3_get_record|EPROTO|closed|socket disconnected/i,
    );
    await served(amqpsUrl(broker), { ca: [pem('ca.pem')], servername: 'localhost' });
    await served(broker.url, {});
  });

  it('serves the management API over HTTPS on the same certificate when asked, and refuses plain HTTP there', async () => {
    const port = secureApi.broker.managementPort!;
    const whoami = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/api/whoami',
          servername: 'localhost',
          ca: pem('ca.pem'),
          auth: 'guest:guest',
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(whoami).toEqual({ status: 200, body: '{"name":"guest","tags":["administrator"]}' });
    await expect(fetch(`http://127.0.0.1:${port}/api/whoami`)).rejects.toThrow();
  });
});
