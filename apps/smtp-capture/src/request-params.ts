// Query and path parameters of the HTTP API, checked with zod like the request bodies of the services. The
// answer to a bad one stays Mailpit's: a 400 with one plain-text line naming the parameter.
import { z } from 'zod';

/** A request parameter the API refuses; http-api.ts turns it into a 400. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
}

const count = z
  .string()
  .regex(/^\d{1,9}$/, { error: (issue) => `must be a non-negative integer, got "${String(issue.input)}"` });

/** `?start=&limit=` of the listing and search routes (empty means the default, as in Mailpit). */
export const PageQuery = z.object({
  start: count.or(z.literal('')).optional(),
  limit: count.or(z.literal('')).optional(),
});

/** `?query=` of the search routes, plus paging. */
export const SearchQuery = PageQuery.extend({ query: z.string({ error: 'is required' }).trim().min(1, 'is required') });

/** A message ID (22 base62 characters here, `latest`) or a part ID (`1`, `1.2`). */
export const PathId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"');

/**
 * The query as an object for `schema`. Other parameters are let through, as Mailpit ignores what it does not
 * know (clients send `tz`, for one); a repeated one is refused, as no route takes a list.
 */
export function parseQuery<S extends z.ZodType>(url: URL, schema: S): z.output<S> {
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    if (values.length > 1) throw new ParamError(`"${key}" is given ${values.length} times; give it once`);
    query[key] = values[0];
  }
  return check(schema, query);
}

/** A decoded path parameter, checked with PathId. */
export function parsePathId(name: string, value: string): string {
  return check(z.object({ [name]: PathId }), { [name]: value })[name];
}

function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ParamError(`"${issue.path.join('.')}" ${issue.message}`);
}
