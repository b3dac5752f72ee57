// The demo's control API: what the console (and curl) may do to the demo's processes, on loopback only, with
// the demo's admin token. JSON in and out; every refusal is a status and {"error": "..."}.
//
//   GET    /processes                     every supervised process: name, pid, state, restarts, last exit
//   POST   /processes/:name/signal        {"signal": "SIGKILL" | "SIGTERM" | "SIGSTOP" | "SIGCONT"}; a killed
//                                         process is restarted by the supervisor, as after a crash
//   POST   /processes/:name/restart       stop it and start it again (the broker: its data dir is kept)
//   POST   /instances                     {"service": "payments"}: one more instance of a service (competing
//                                         consumers), on a free port with its own data dir; 201 with its name and URL
//   DELETE /instances/:name               stops an instance that POST /instances added
// Only node: built-ins.
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

const SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGCONT'];
const MAX_BODY = 16 * 1024;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return resolve({});
      try {
        const value = JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
        resolve(value);
      } catch {
        reject(new HttpError(400, 'the body must be a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

const sameToken = (given, expected) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Starts the control API on host:port. `addInstance(service)` starts one more instance and resolves with
 * {name, url}; `scalable` lists the services it accepts.
 */
export function startControlApi({ supervisor, token, host = '127.0.0.1', port, scalable, addInstance }) {
  const routes = [
    ['GET', /^\/processes$/, () => ({ status: 200, body: supervisor.list() })],
    [
      'POST',
      /^\/processes\/([^/]+)\/signal$/,
      async (req, [name]) => {
        const body = await readJson(req);
        if (!SIGNALS.includes(body.signal))
          throw new HttpError(400, `signal must be one of ${SIGNALS.join(', ')}, got ${JSON.stringify(body.signal)}`);
        const child = known(name);
        if (!supervisor.signal(name, body.signal))
          throw new HttpError(409, `${name} is ${child.state}: nothing to signal`);
        return { status: 202, body: { name, signal: body.signal } };
      },
    ],
    [
      'POST',
      /^\/processes\/([^/]+)\/restart$/,
      async (_req, [name]) => {
        known(name);
        await supervisor.restart(name);
        return { status: 200, body: supervisor.get(name).describe() };
      },
    ],
    [
      'POST',
      /^\/instances$/,
      async (req) => {
        const body = await readJson(req);
        if (!scalable.includes(body.service))
          throw new HttpError(
            400,
            `service must be one of ${scalable.join(', ')}, got ${JSON.stringify(body.service)}`,
          );
        return { status: 201, body: await addInstance(body.service) };
      },
    ],
    [
      'DELETE',
      /^\/instances\/([^/]+)$/,
      async (_req, [name]) => {
        const child = known(name);
        if (!child.spec.removable)
          throw new HttpError(
            409,
            `${name} is one of the demo's own processes; only instances added with POST /instances can be removed`,
          );
        await supervisor.remove(name);
        return { status: 200, body: { removed: name } };
      },
    ],
  ];

  function known(name) {
    const child = supervisor.get(name);
    if (!child) throw new HttpError(404, `no process named ${JSON.stringify(name)}; GET /processes lists them`);
    return child;
  }

  const server = createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameToken(auth.slice(7), token))
        throw new HttpError(401, "send the demo's admin token: authorization: Bearer <token> (.data/admin-token)");
      const path = new URL(req.url ?? '/', 'http://demo').pathname;
      const matching = routes.filter(([, re]) => re.test(path));
      if (!matching.length) throw new HttpError(404, `no route ${path}`);
      const route = matching.find(([method]) => method === req.method);
      if (!route)
        throw new HttpError(
          405,
          `${req.method} is not allowed on ${path}; allowed: ${matching.map(([m]) => m).join(', ')}`,
        );
      const params = route[1].exec(path).slice(1).map(decodeURIComponent);
      const { status, body } = await route[2](req, params);
      send(status, body);
    } catch (err) {
      send(err instanceof HttpError ? err.status : 500, { error: err.message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
