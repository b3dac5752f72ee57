import type { IncomingMessage, ServerResponse } from 'node:http';

// What RabbitMQ's management plugin answers, byte for byte where a client reads it: JSON bodies, and errors
// as {"error": …, "reason": …} with its status codes.

/** An error a handler raises; the server answers it as RabbitMQ would. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
    /** Answer with no body (RabbitMQ's 401 without credentials, its 405). */
    readonly empty = false,
  ) {
    super(`${status} ${error}: ${reason}`);
  }
}

export const notFound = () => new HttpError(404, 'Object Not Found', 'Not Found');
export const badRequest = (reason: string) => new HttpError(400, 'bad_request', reason);
const REALM = { 'www-authenticate': 'Basic realm="RabbitMQ Management"' };
/** No credentials: an empty 401 with the realm. */
export const noCredentials = () => new HttpError(401, 'not_authorized', 'Login failed', REALM, true);
/** Wrong credentials (RabbitMQ spells this one with a z). */
export const loginFailed = () => new HttpError(401, 'not_authorized', 'Login failed', REALM);
/** The user may not do this: a tag is missing (RabbitMQ spells this one with an s). */
export const notAuthorised = (reason: string) => new HttpError(401, 'not_authorised', reason, REALM);
export const methodNotAllowed = () => new HttpError(405, 'Method Not Allowed', 'Method Not Allowed', {}, true);

/** Bodies larger than this are refused with 413 before they are read in full (RabbitMQ's default is 20 MB). */
export const MAX_BODY = 20 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  if (error.empty) {
    res.writeHead(error.status, { ...error.headers, 'content-length': 0 });
    res.end();
    return;
  }
  sendJson(res, error.status, { error: error.error, reason: error.reason }, error.headers);
}

/** The request body as JSON: an object, or a 400 naming what is wrong with it. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new HttpError(413, 'bad_request', 'Request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'bad_request', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('not_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badRequest('payload not a JSON object');
  return parsed as Record<string, unknown>;
}
