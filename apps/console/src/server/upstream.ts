import { HttpException } from '@nestjs/common';

/**
 * Calls to the other parts of the platform (services, the management API, Mailpit, the demo's control API):
 * JSON in, JSON out. Credentials in a URL (http://guest:guest@host:15672) become a Basic authorization header,
 * since fetch refuses URLs that carry them, and never appear in a message.
 */
export interface SendOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Default 10 s. */
  timeoutMs?: number;
}

/**
 * An upstream that answered with an error, or did not answer. As an HttpException the console's API answers
 * with the upstream's own 4xx status and message (bad input stays bad input), and 502 otherwise.
 */
export class UpstreamError extends HttpException {
  constructor(
    readonly upstreamStatus: number | undefined,
    message: string,
  ) {
    const status = upstreamStatus !== undefined && upstreamStatus >= 400 && upstreamStatus < 500 ? upstreamStatus : 502;
    super({ statusCode: status, error: status === 502 ? 'Bad Gateway' : 'Upstream refused', message }, status);
  }
}

/** Splits credentials off a URL: the URL to show and call, and the headers that carry them. */
export function withoutCredentials(url: string): { url: URL; shown: string; headers: Record<string, string> } {
  const u = new URL(url);
  const headers: Record<string, string> = {};
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  return { url: u, shown: u.toString(), headers };
}

/** The message a JSON error body carries (Nest's `{ message }`, `{ error }`, or a list of problems). */
function messageOf(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const m =
      (body as { message?: unknown; error?: unknown; reason?: unknown }).message ??
      (body as { error?: unknown }).error ??
      (body as { reason?: unknown }).reason;
    if (Array.isArray(m)) return m.map(String).join('; ');
    if (typeof m === 'string') return m;
  }
  return undefined;
}

/** METHOD url with a JSON body (if any); resolves the JSON answer (undefined for an empty one). */
export async function sendJson<T = unknown>(method: string, url: string, options: SendOptions = {}): Promise<T> {
  const { url: target, shown, headers: auth } = withoutCredentials(url);
  const headers: Record<string, string> = { accept: 'application/json', ...auth, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError')
      throw new UpstreamError(undefined, `${method} ${shown}: no answer in time`);
    throw new UpstreamError(
      undefined,
      `${method} ${shown} failed${e.cause?.code ? ` (${e.cause.code})` : `: ${e.message}`}`,
    );
  }
  const text = await res.text();
  let body: unknown = undefined;
  let json = true;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      json = false;
    }
  }
  if (!res.ok) {
    const why = json ? messageOf(body) : undefined;
    throw new UpstreamError(res.status, `${method} ${shown} answered ${res.status}${why ? `: ${why}` : ''}`);
  }
  if (!json) throw new UpstreamError(undefined, `${method} ${shown} answered with a body that is not JSON`);
  return body as T;
}
