import { methodNotAllowed, notFound } from './http';

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** Who may call a route, by RabbitMQ's user tags (management < policymaker, monitoring < administrator). */
export type Access = 'management' | 'monitoring' | 'administrator';

export interface Route<C> {
  method: Method;
  /** Path below /api, segments separated by '/'; ':name' captures one (URL-decoded, so %2F is the vhost '/'). */
  path: string;
  access: Access;
  handle(context: C, params: Record<string, string>): Promise<RouteResult> | RouteResult;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

interface Compiled<C> {
  route: Route<C>;
  segments: string[];
}

/**
 * One table maps paths to handlers, as RabbitMQ's dispatcher does: a path that exists with another method is a
 * 405, one that matches nothing a 404.
 */
export class Router<C> {
  private readonly routes: Compiled<C>[];

  constructor(routes: Route<C>[]) {
    this.routes = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  }

  match(method: string, path: string): { route: Route<C>; params: Record<string, string> } {
    const raw = path.split('/').filter(Boolean);
    let parts: string[];
    try {
      parts = raw.map((segment) => decodeURIComponent(segment));
    } catch {
      throw notFound();
    }
    let pathMatched = false;
    for (const { route, segments } of this.routes) {
      const params = matchSegments(segments, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method === method) return { route, params };
    }
    if (pathMatched) throw methodNotAllowed();
    throw notFound();
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = parts[i];
    else if (pattern[i] !== parts[i]) return undefined;
  }
  return params;
}
