import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { UserRecord } from '../access/access-control';
import type { ManagementHost, RequestContext } from './context';
import { HttpError, loginFailed, noCredentials, notAuthorised, readJson, sendError, sendJson } from './http';
import { adminRoutes } from './resources/admin';
import { connectionRoutes } from './resources/connections';
import { definitionRoutes } from './resources/definitions';
import { healthRoutes } from './resources/health';
import { messageRoutes } from './resources/messages';
import { objectRoutes } from './resources/objects';
import { policyRoutes } from './resources/policies';
import { RateSampler } from './rates';
import { Access, Router } from './router';
import { closeHttp, listen } from '../util/listen';

/** One header's value; a repeated one joined with ', ' as HTTP allows (Node gives some as arrays). */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Tags that may use the management API at all, and what each access level needs (RabbitMQ's rules). */
const MANAGEMENT_TAGS = ['administrator', 'monitoring', 'policymaker', 'management'];
/** Routes whose changes live in access.json rather than in the vhosts' own durable definitions. */
const CHANGES_ACCESS = /^(users|vhosts|permissions|policies|definitions)\b/;
const ALLOWED: Record<Access, string[]> = {
  management: MANAGEMENT_TAGS,
  monitoring: ['administrator', 'monitoring'],
  administrator: ['administrator'],
};

/**
 * RabbitMQ's management HTTP API, the part tools read: one route table (resources/*), HTTP basic auth with the
 * broker's users, tags deciding who may see and change what, RabbitMQ's JSON and status codes.
 */
export class ManagementServer {
  private readonly router = new Router<RequestContext>([
    ...healthRoutes,
    ...adminRoutes,
    ...objectRoutes,
    ...definitionRoutes,
    ...connectionRoutes,
    ...messageRoutes,
    ...policyRoutes,
  ]);
  private server: Server | undefined;
  private readonly rates: RateSampler;

  constructor(
    private readonly host: ManagementHost,
    private readonly log: (message: string) => void,
  ) {
    this.rates = new RateSampler(host.metrics, () => [...host.vhosts.values()].flatMap((v) => [...v.queues.values()]));
  }

  /** Listens on `port`; over HTTPS with `tls` (PEM certificate and key, as the amqps listener uses). */
  async listen(
    port: number,
    hostname?: string,
    tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer },
  ): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const server: Server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca }, handler)
      : createServer(handler);
    this.server = server;
    this.rates.start();
    return listen(server, port, hostname);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.rates.stop();
    if (server) await closeHttp(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!url.pathname.startsWith('/api/')) throw new HttpError(404, 'Object Not Found', 'Not Found');
      const user = this.authenticate(req);
      const { route, params } = this.router.match(req.method ?? 'GET', url.pathname.slice('/api'.length));
      if (!ALLOWED[route.access].some((tag) => user.tags.includes(tag)))
        throw notAuthorised(route.access === 'monitoring' ? 'Not monitor user' : 'Not administrator user');
      const context: RequestContext = {
        host: this.host,
        rates: this.rates,
        user,
        body: () => readJson(req),
        header: (name) => headerValue(req, name),
      };
      const result = await route.handle(context, params);
      if (route.method !== 'GET' && CHANGES_ACCESS.test(route.path)) this.host.saveAccess();
      sendJson(res, result.status, result.body);
    } catch (error) {
      if (error instanceof HttpError) return sendError(res, error);
      this.log(`management API: ${req.method} ${req.url}: ${(error as Error)?.stack ?? error}`);
      sendJson(res, 500, { error: 'internal_server_error', reason: 'internal error' });
    }
  }

  /** HTTP basic auth against the broker's users; RabbitMQ's loopback rule applies here too. */
  private authenticate(req: IncomingMessage): UserRecord {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match) throw noCredentials();
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw loginFailed();
    const user = this.host.access.authenticate(
      decoded.slice(0, colon),
      decoded.slice(colon + 1),
      req.socket.remoteAddress,
    );
    if (typeof user === 'string') throw loginFailed();
    if (!MANAGEMENT_TAGS.some((tag) => user.tags.includes(tag))) throw notAuthorised('Not management user');
    return user;
  }
}
