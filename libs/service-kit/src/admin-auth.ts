import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The realm a browser shows in its login prompt (Bull Board is opened in one). */
export const ADMIN_REALM = 'warren admin';

export interface AdminRefusal {
  status: 401 | 403;
  body: { statusCode: number; error: string; message: string };
  headers: Record<string, string>;
}

/**
 * Whether a request may use an admin route. ADMIN_TOKEN unset (or empty): admin routes are off, 403 for
 * everyone. Set: the request must carry `Authorization: Bearer <token>`, or Basic auth whose password is the
 * token (any user name), else 401 with a Basic challenge. Returns undefined when the request may pass.
 */
export function refuseAdmin(authorization: string | undefined, token: string | undefined): AdminRefusal | undefined {
  if (!token) {
    return {
      status: 403,
      body: { statusCode: 403, error: 'Forbidden', message: 'admin routes are off: set ADMIN_TOKEN to turn them on' },
      headers: {},
    };
  }
  const given = presentedToken(authorization);
  if (given !== undefined && sameSecret(given, token)) return undefined;
  return {
    status: 401,
    body: {
      statusCode: 401,
      error: 'Unauthorized',
      message:
        given === undefined
          ? 'admin routes need the admin token: Authorization: Bearer <ADMIN_TOKEN>, or Basic auth with it as the password'
          : 'the admin token is wrong',
    },
    headers: { 'WWW-Authenticate': `Basic realm="${ADMIN_REALM}"` },
  };
}

/** The token from `Bearer <token>`, or the password from `Basic base64(user:password)`. */
function presentedToken(authorization: string | undefined): string | undefined {
  const match = /^(bearer|basic)\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  if (match[1].toLowerCase() === 'bearer') return match[2];
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

// Hashing first gives both sides the same length, so neither the comparison's time nor an early length check
// tells an attacker how much of the token they got right, or how long it is.
function sameSecret(given: string, token: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** ADMIN_TOKEN, read when the app is created (as the rest of the environment is). */
function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  return env.ADMIN_TOKEN || undefined;
}

/** `@UseGuards(AdminGuard)` on an admin controller or route. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly token = adminToken(process.env);

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const refusal = refuseAdmin(http.getRequest<IncomingMessage>().headers.authorization, this.token);
    if (!refusal) return true;
    const res = http.getResponse<ServerResponse>();
    for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
    throw new HttpException(refusal.body, refusal.status);
  }
}

/**
 * The same check as Express-style middleware, for admin UIs mounted outside Nest's router (Bull Board):
 * `app.use('/queues', adminMiddleware(), router)`.
 */
export function adminMiddleware(
  env: NodeJS.ProcessEnv = process.env,
): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const token = adminToken(env);
  return (req, res, next) => {
    const refusal = refuseAdmin(req.headers.authorization, token);
    if (!refusal) return next();
    res.writeHead(refusal.status, { ...refusal.headers, 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(refusal.body));
  };
}
