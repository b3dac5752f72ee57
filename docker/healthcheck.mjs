// Container health check, built-ins only (the slim Node image has no curl). Copied into every Warren image
// (docker/service.Dockerfile), where SERVICE is the app the image carries.
//   node healthcheck.mjs            SERVICE=broker: the AMQP check on BROKER_PORT (default 5672);
//                                   SERVICE=smtp-capture: GET /readyz on SMTP_HTTP_PORT (default 8025);
//                                   SERVICE=console: GET /api/health on CONSOLE_PORT, else PORT;
//                                   any other: GET http://127.0.0.1:$PORT/health, healthy on 200
//   node healthcheck.mjs amqp PORT  open a TCP connection, send the AMQP 0-9-1 protocol header and expect a
//                                   method frame back (Connection.Start): the broker is accepting clients
//   node healthcheck.mjs URL        GET URL, healthy on 200
// Exit 0 when healthy, 1 otherwise, with one line saying why.
import { connect } from 'node:net';

const TIMEOUT_MS = 3000;
const args = process.argv.slice(2);
const byService = {
  broker: ['amqp', process.env.BROKER_PORT ?? '5672'],
  'smtp-capture': [`http://127.0.0.1:${process.env.SMTP_HTTP_PORT ?? 8025}/readyz`],
  console: [`http://127.0.0.1:${process.env.CONSOLE_PORT ?? process.env.PORT ?? 8080}/api/health`],
};
const [mode, arg] = args.length ? args : (byService[process.env.SERVICE] ?? []);

function done(ok, line) {
  if (!ok) console.error(`unhealthy: ${line}`);
  process.exit(ok ? 0 : 1);
}

if (mode === 'amqp') {
  const port = Number(arg ?? 5672);
  const socket = connect({ host: '127.0.0.1', port });
  socket.setTimeout(TIMEOUT_MS, () => done(false, `no answer on port ${port} within ${TIMEOUT_MS} ms`));
  socket.on('error', (err) => done(false, `port ${port}: ${err.message}`));
  socket.on('connect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
  // A frame of type 1 (method) is Connection.Start; anything else (e.g. a protocol header back) is not ready.
  socket.once('data', (data) => done(data[0] === 1, `unexpected answer on port ${port}`));
} else {
  const url = mode ?? `http://127.0.0.1:${process.env.PORT ?? 3000}/health`;
  setTimeout(() => done(false, `${url}: no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();
  fetch(url).then(
    (res) => done(res.status === 200, `${url} answered ${res.status}`),
    (err) => done(false, `${url}: ${err.message}`),
  );
}
