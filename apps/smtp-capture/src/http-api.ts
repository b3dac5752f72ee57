// The capture's HTTP side: Mailpit's API v1 routes (the subset Warren uses, same paths, JSON and status
// codes), a tiny HTML listing at `/`, health probes, and Warren's own fault-injection routes under
// /api/warren/. As in Mailpit, errors are plain text with a 4xx status; "ok" answers a change.
import { IncomingMessage, ServerResponse } from 'node:http';
import { CapturedMessage } from './captured-message';
import { FailNext, FailNextRequestError } from './fail-next';
import { messageJson, messagesSummaryJson } from './mailpit-json';
import { MessageStore } from './message-store';
import { PageQuery, ParamError, parsePathId, parseQuery, SearchQuery } from './request-params';
import { compileSearch, SearchQueryError } from './search';

const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_PAGE_LIMIT = 50;

/** A request the API refuses: the status and a one-line reason. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface HttpApiStats {
  startedAt: Date;
  smtpAccepted: number;
  smtpAcceptedSize: number;
  smtpRejected: number;
}

interface Route {
  method: string;
  path: RegExp;
  handler: Handler;
  names: string[];
}

type Handler = (req: IncomingMessage, url: URL, params: string[]) => Promise<Reply> | Reply;

interface Reply {
  status?: number;
  type?: string;
  body: string | Buffer | object;
  headers?: Record<string, string>;
}

const ok = (): Reply => ({ body: 'ok', type: 'text/plain; charset=utf-8' });

export class HttpApi {
  private readonly routes: Route[] = [];

  constructor(
    private readonly store: MessageStore,
    private readonly failNext: FailNext,
    private readonly stats: HttpApiStats,
  ) {
    const id = '([^/]+)';
    this.route('GET', /^\/$/, () => this.indexPage());
    for (const probe of [/^\/health$/, /^\/livez$/, /^\/readyz$/]) this.route('GET', probe, ok);
    this.route('GET', /^\/api\/v1\/info$/, () => this.info());
    this.route('GET', /^\/api\/v1\/messages$/, (_req, url) => this.list(url, () => true));
    this.route('PUT', /^\/api\/v1\/messages$/, (req) => this.setRead(req));
    this.route('DELETE', /^\/api\/v1\/messages$/, (req) => this.deleteMessages(req));
    this.route('GET', /^\/api\/v1\/search$/, (_req, url) => this.list(url, this.searchPredicate(url)));
    this.route('DELETE', /^\/api\/v1\/search$/, (_req, url) => this.deleteSearch(url));
    this.route('GET', new RegExp(`^/api/v1/message/${id}$`), (_req, _url, [mid]) => this.message(mid));
    this.route('GET', new RegExp(`^/api/v1/message/${id}/headers$`), (_req, _url, [mid]) => this.headers(mid));
    this.route('GET', new RegExp(`^/api/v1/message/${id}/raw$`), (_req, _url, [mid]) => this.raw(mid));
    this.route(
      'GET',
      new RegExp(`^/api/v1/message/${id}/part/${id}$`),
      (_req, _url, [mid, part]) => this.part(mid, part),
      ['id', 'part'],
    );
    this.route('GET', new RegExp(`^/view/${id}\\.html$`), (_req, _url, [mid]) => this.viewHtml(mid));
    this.route('GET', new RegExp(`^/view/${id}\\.txt$`), (_req, _url, [mid]) => this.viewText(mid));
    this.route('GET', /^\/api\/warren\/fail-next$/, () => ({ body: this.failNext.state() }));
    this.route('POST', /^\/api\/warren\/fail-next$/, (req) => this.configureFailNext(req));
    this.route('DELETE', /^\/api\/warren\/fail-next$/, () => ({ body: this.failNext.clear() }));
  }

  /** The node:http request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.dispatch(req)
      .catch((error: unknown) => {
        if (error instanceof HttpError)
          return { status: error.status, body: error.message, type: 'text/plain; charset=utf-8' };
        if (error instanceof ParamError) return { status: 400, body: error.message, type: 'text/plain; charset=utf-8' };
        return { status: 500, body: `internal error: ${(error as Error).message}`, type: 'text/plain; charset=utf-8' };
      })
      .then((reply) => send(res, reply));
  };

  /** `names`: what the path's capture groups are called in a 400 (a message ID unless told otherwise). */
  private route(method: string, path: RegExp, handler: Handler, names: string[] = ['id']): void {
    this.routes.push({ method, path, handler, names });
  }

  private async dispatch(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://capture.invalid');
    const matching = this.routes
      .map((r) => ({ route: r, match: r.path.exec(url.pathname) }))
      .filter((m): m is { route: Route; match: RegExpExecArray } => m.match !== null);
    if (matching.length === 0) throw new HttpError(404, 'not found');
    const hit = matching.find(
      (m) => m.route.method === req.method || (req.method === 'HEAD' && m.route.method === 'GET'),
    );
    if (!hit) {
      const allowed = [...new Set(matching.map((m) => m.route.method))].join(', ');
      return {
        status: 405,
        body: `method ${req.method} not allowed; use ${allowed}`,
        type: 'text/plain; charset=utf-8',
        headers: { Allow: allowed },
      };
    }
    const params = hit.match.slice(1).map((p, i) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(p);
      } catch {
        throw new HttpError(400, `malformed URL escape in "${p}"`);
      }
      return parsePathId(hit.route.names[i] ?? 'id', decoded);
    });
    return hit.route.handler(req, url, params);
  }

  private find(id: string): CapturedMessage {
    const message = this.store.get(id);
    if (!message) throw new HttpError(404, id === 'latest' ? 'no messages' : `message ${id} not found`);
    return message;
  }

  private list(url: URL, predicate: (m: CapturedMessage) => boolean): Reply {
    const page = parseQuery(url, PageQuery);
    const start = page.start ? Number(page.start) : 0;
    const limit = Number(page.limit || DEFAULT_PAGE_LIMIT) || DEFAULT_PAGE_LIMIT;
    const matches = this.store.all().filter(predicate);
    return {
      body: messagesSummaryJson(
        matches,
        { start, limit },
        { total: this.store.size, unread: this.store.unread, tags: this.store.tags() },
      ),
    };
  }

  private searchPredicate(url: URL): (m: CapturedMessage) => boolean {
    const { query } = parseQuery(url, SearchQuery);
    try {
      return compileSearch(query);
    } catch (error) {
      if (error instanceof SearchQueryError) throw new HttpError(400, error.message);
      throw error;
    }
  }

  private deleteSearch(url: URL): Reply {
    const predicate = this.searchPredicate(url);
    this.store.delete(
      this.store
        .all()
        .filter(predicate)
        .map((m) => m.id),
    );
    return ok();
  }

  private async deleteMessages(req: IncomingMessage): Promise<Reply> {
    const body = await readJsonBody(req);
    this.store.delete(idsOf(body));
    return ok();
  }

  private async setRead(req: IncomingMessage): Promise<Reply> {
    const body = await readJsonBody(req);
    // the same check as idsOf's, first: `null` (or any body that is not an object) has no Read to look at
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
      throw new HttpError(400, 'body must be a JSON object like {"IDs": ["..."], "Read": true}');
    const read = body === undefined ? false : ((body as { Read?: unknown }).Read ?? false);
    if (typeof read !== 'boolean') throw new HttpError(400, '"Read" must be true or false');
    this.store.setRead(read, idsOf(body));
    return ok();
  }

  /** Like Mailpit, reading a message marks it read. */
  private message(id: string): Reply {
    const message = this.find(id);
    message.read = true;
    return { body: messageJson(message) };
  }

  private headers(id: string): Reply {
    return { body: Object.fromEntries(this.find(id).headers) };
  }

  private raw(id: string): Reply {
    return { body: this.find(id).raw, type: 'text/plain; charset=utf-8' };
  }

  private part(id: string, partId: string): Reply {
    const message = this.find(id);
    const part = [...message.attachments, ...message.inline].find((p) => p.PartID === partId);
    if (!part) throw new HttpError(404, `message ${id} has no part ${partId}`);
    const headers: Record<string, string> = {};
    if (part.FileName)
      headers['Content-Disposition'] = `attachment; filename="${part.FileName.replace(/["\\\r\n]/g, '_')}"`;
    return { body: part.content, type: part.ContentType, headers };
  }

  private viewHtml(id: string): Reply {
    const message = this.find(id);
    if (message.html === '') throw new HttpError(404, `message ${id} has no HTML part`);
    return { body: message.html, type: 'text/html; charset=utf-8' };
  }

  private viewText(id: string): Reply {
    return { body: this.find(id).text, type: 'text/plain; charset=utf-8' };
  }

  private async configureFailNext(req: IncomingMessage): Promise<Reply> {
    const body = await readJsonBody(req);
    try {
      return { body: this.failNext.configure(body) };
    } catch (error) {
      if (error instanceof FailNextRequestError) throw new HttpError(400, error.message);
      throw error;
    }
  }

  /** A trimmed-down `/api/v1/info`: the counters this capture has. */
  private info(): Reply {
    const tags: Record<string, number> = {};
    for (const m of this.store.all()) for (const t of m.tags) tags[t] = (tags[t] ?? 0) + 1;
    return {
      body: {
        Version: 'warren-smtp-capture',
        LatestVersion: '',
        Database: '',
        DatabaseSize: 0,
        Messages: this.store.size,
        Unread: this.store.unread,
        Tags: tags,
        RuntimeStats: {
          Memory: process.memoryUsage().rss,
          Uptime: Math.floor((Date.now() - this.stats.startedAt.getTime()) / 1000),
          MessagesDeleted: this.store.deleted,
          SMTPAccepted: this.stats.smtpAccepted,
          SMTPAcceptedSize: this.stats.smtpAcceptedSize,
          SMTPRejected: this.stats.smtpRejected,
          SMTPIgnored: 0,
        },
      },
    };
  }

  private indexPage(): Reply {
    const rows = this.store
      .all()
      .map(
        (m) =>
          `<tr><td>${escapeHtml(m.created.toISOString())}</td><td>${escapeHtml(m.from?.Address ?? '')}</td>` +
          `<td>${escapeHtml(m.to.map((a) => a.Address).join(', '))}</td>` +
          `<td><a href="/view/${m.id}.${m.html ? 'html' : 'txt'}">${escapeHtml(m.subject || '(no subject)')}</a></td>` +
          `<td><a href="/api/v1/message/${m.id}/raw">raw</a></td></tr>`,
      )
      .join('\n');
    const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Warren SMTP capture</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}</style></head>
<body><h1>Warren SMTP capture</h1>
<p>${this.store.size} message(s), newest first. JSON: <a href="/api/v1/messages">/api/v1/messages</a></p>
<table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th></th></tr>
${rows}
</table></body></html>`;
    return { body: html, type: 'text/html; charset=utf-8' };
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const isBinary = Buffer.isBuffer(reply.body);
  const body = isBinary || typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const type = reply.type ?? 'application/json; charset=utf-8';
  res.writeHead(reply.status ?? 200, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body as string | Buffer),
    ...reply.headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** `{ "IDs": [...] }` → the IDs; no body, `{}` or an empty list → undefined (meaning every message). */
function idsOf(body: unknown): string[] | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'body must be a JSON object like {"IDs": ["..."]}');
  const ids = (body as { IDs?: unknown }).IDs;
  if (ids === undefined || ids === null) return undefined;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
    throw new HttpError(400, '"IDs" must be an array of message ID strings');
  return ids.length === 0 ? undefined : (ids as string[]);
}

/** The body as JSON; undefined when it is empty. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `invalid JSON body: ${(error as Error).message}`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
