// Hostile HTTP requests for the fuzz suite (e2e/http-fuzz.spec.ts), derived from a route table: each route gives
// a valid request (path parameters, query parameters, a JSON body), and the generators below turn every part of
// it into malformed and hostile variants: wrong types for every field, missing and extra fields, huge strings
// and arrays, deep nesting, NaN/Infinity/-0 and 2^53+1, invalid UTF-8, truncated JSON, wrong and missing
// content types, bodies past the size limit, hostile path segments and query strings, unknown methods, and
// admin routes without or with a wrong token. Every random choice comes from one seeded Prng, so a run replays
// with its seed. Requests go out through node:http, not fetch, so that raw bytes, odd methods and paths that
// fetch would normalise reach the server as written.
import { request, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';

/** A small seeded generator (xmur3 to seed, mulberry32 to draw): the same seed, the same requests. */
export class Prng {
  private state: number;

  constructor(seed: string) {
    let h = 1779033703 ^ seed.length;
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    this.state = (h ^ (h >>> 16)) >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** `n` distinct items (all of them when there are fewer), in a seeded order. */
  sample<T>(items: readonly T[], n: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, n);
  }
}

/** A JSON token written as it is: -0, 1e309, 2^53+1 and NaN cannot come out of JSON.stringify. */
export class Raw {
  constructor(readonly text: string) {}
}

export type Json = null | boolean | number | string | Raw | Json[] | { [key: string]: Json };

/** JSON.stringify, with Raw tokens written verbatim. */
export function toJson(value: Json): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export interface RouteSpec {
  method: string;
  /** Express style: `/orders/:id`. */
  path: string;
  /** A valid value for each path parameter. */
  params?: Record<string, string>;
  /** A valid value for each query parameter the route reads. */
  query?: Record<string, string>;
  /** A valid JSON body; its shape is what the body mutations follow. */
  body?: Json;
  /** Headers a valid request carries, and which of them to fuzz. */
  headers?: Record<string, string>;
  fuzzHeaders?: string[];
  /** Needs the admin token: the mutations carry it, and the request without it (or with a wrong one) is tried too. */
  admin?: boolean;
  /** Server-sent events: a 200 is an endless stream, so the answer's status is read and the request dropped. */
  sse?: boolean;
  /** Only the requests without the token or with a wrong one: a route that changes what no fuzz may (Bull Board's queue actions). */
  authOnly?: boolean;
  /** Errors are JSON here (default: what the target says). */
  jsonErrors?: boolean;
  /** Not in the Nest router's "Mapped {…} route" list (Swagger, Bull Board, plain handlers). */
  unmapped?: boolean;
}

export interface FuzzRequest {
  /** What the case is, for the failure list. */
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  route: RouteSpec;
  /**
   * Node's HTTP parser answers this one before the app sees it (an unknown method, a byte the parser refuses,
   * a request line past the header limit): a bare 400 or 431 without a body, or the connection closed.
   */
  transport?: boolean;
}

export interface FuzzResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The connection was reset while the body came: the status is the server's, the body may be short. */
  cut?: boolean;
}

// ---------------------------------------------------------------------------------------------- values

/** Values every field gets: each JSON type, and the numbers that are not what they seem. */
function alwaysValues(example: Json): Json[] {
  return [
    null,
    true,
    '',
    [],
    {},
    [example],
    new Raw('-0'),
    new Raw('1e309'), // Infinity once parsed
    new Raw('-1e309'),
    new Raw('9007199254740993'), // 2^53 + 1
    new Raw('1e-400'), // 0 once parsed
  ];
}

/** More values of every JSON type and then some, sampled for each field: each is wrong somewhere. */
function hostileValues(prng: Prng): Json[] {
  const n = prng.int(3000, 6000);
  return [
    false,
    0,
    -1,
    1.5,
    new Raw('-9007199254740993'),
    1_000_000_000,
    2_147_483_647, // the largest 32-bit integer (a Postgres integer column), and one past it
    2_147_483_648,
    new Raw('123456789012345678901234567890'),
    new Raw('NaN'),
    new Raw('Infinity'),
    new Raw('-Infinity'),
    new Raw('undefined'),
    new Raw('0x10'),
    new Raw('"\\ud800"'), // a lone surrogate
    new Raw('"\\u0000"'),
    '',
    ' ',
    'x',
    '0',
    '-0',
    'NaN',
    'Infinity',
    'true',
    'null',
    '1e309',
    '9007199254740993',
    '__proto__',
    '\r\nX-Injected: 1',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    '${jndi:ldap://127.0.0.1/x}',
    '💥'.repeat(prng.int(100, 1000)),
    'a'.repeat(prng.int(10_000, 60_000)),
    [null],
    { length: 1 },
    new Raw('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    new Raw('['.repeat(n) + ']'.repeat(n)),
    new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    new Raw(`[${Array.from({ length: prng.int(10_000, 20_000) }, () => prng.int(0, 9)).join(',')}]`),
  ];
}

/** Every place in a JSON value: [] is the value itself, then each member and element, depth first. */
function paths(value: Json, at: Array<string | number> = []): Array<Array<string | number>> {
  const here = [at];
  if (Array.isArray(value)) value.forEach((v, i) => here.push(...paths(v, [...at, i])));
  else if (value !== null && typeof value === 'object' && !(value instanceof Raw))
    for (const [k, v] of Object.entries(value)) here.push(...paths(v, [...at, k]));
  return here;
}

function clone(value: Json): Json {
  if (value instanceof Raw) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/** `value` with the thing at `at` replaced (or removed, with `remove`). */
function withAt(
  value: Json,
  at: Array<string | number>,
  replace: (old: Json) => Json | typeof REMOVE,
): Json | typeof REMOVE {
  if (at.length === 0) return replace(value);
  const copy = clone(value) as Record<string, Json> | Json[];
  let parent: Record<string | number, Json> = copy as Record<string | number, Json>;
  for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = at[at.length - 1];
  const next = replace(parent[last]);
  if (next === REMOVE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}
const REMOVE = Symbol('remove');

const label = (at: Array<string | number>) => (at.length ? at.join('.') : '(body)');
const show = (v: Json) => {
  const text = toJson(v);
  return text.length > 40 ? `${text.slice(0, 30)}…(${text.length} chars)` : text;
};

// ---------------------------------------------------------------------------------------------- requests

/** The route's path with its parameters (valid ones unless `override` says otherwise), and a query string. */
function buildPath(route: RouteSpec, override: Record<string, string> = {}, query?: string): string {
  const path = route.path.replace(
    /:(\w+)/g,
    (_, name: string) => override[name] ?? encodeURIComponent(route.params?.[name] ?? 'x'),
  );
  const q = query ?? new URLSearchParams(route.query ?? {}).toString();
  return q ? `${path}?${q}` : path;
}

function jsonHeaders(
  route: RouteSpec,
  admin: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...(route.admin ? admin : {}), ...(route.headers ?? {}), ...extra };
}

/** The valid request for a route: what every mutation starts from. */
export function validRequest(route: RouteSpec, admin: Record<string, string>): FuzzRequest {
  const body = route.body === undefined ? undefined : Buffer.from(toJson(route.body));
  return {
    name: 'valid',
    method: route.method,
    path: buildPath(route),
    headers: jsonHeaders(route, admin, body ? { 'content-type': 'application/json' } : {}),
    body,
    route,
  };
}

/** Path segments that are not what the route wants: not a UUID, huge, encoded slashes, NULs, dots, bad encodings. */
function hostileSegments(prng: Prng, valid: string): Array<[string, string]> {
  return [
    ['not a uuid', 'not-a-uuid'],
    ['zero', '0'],
    ['negative', '-1'],
    ['1e309', '1e309'],
    ['NaN', 'NaN'],
    ['null', 'null'],
    ['upper case', encodeURIComponent(valid.toUpperCase())],
    ['trailing newline', `${encodeURIComponent(valid)}%0A`],
    ['trailing NUL', `${encodeURIComponent(valid)}%00`],
    ['NUL', '%00'],
    ['encoded slash', `a%2Fb`],
    ['encoded traversal', '..%2F..%2F..%2Fetc%2Fpasswd'],
    ['encoded dots', '%2e%2e'],
    ['lone percent', '%'],
    ['bad percent escape', '%zz'],
    ['truncated UTF-8 escape', '%E0%A4%A'],
    ['overlong UTF-8 escape', '%C0%AF'],
    ['encoded surrogate', '%ED%A0%80'],
    ['invalid UTF-8 bytes', '%FF%FE'],
    ['emoji', '%F0%9F%92%A5'],
    ['CRLF', '%0D%0ASet-Cookie:%20x=1'],
    ['SQL', "'%20OR%201=1--"],
    ['template', '$%7Bjndi:ldap:%2F%2F127.0.0.1%2Fx%7D'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['semicolon', '%3B'],
    ['huge', 'x'.repeat(prng.int(5_000, 12_000))],
    ['huge valid prefix', encodeURIComponent(valid) + '9'.repeat(prng.int(5_000, 12_000))],
  ];
}

const QUERY_VALUES = [
  '',
  'x',
  '-1',
  '0',
  '1e3',
  '0x10',
  '1.5',
  '%201',
  '1%20',
  '2147483648',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '%00',
  '%zz',
  '%FF',
  '%F0%9F%92%A5',
  '__proto__',
  'true',
];

/** Query strings: wrong values, repeated and array parameters, unknown and prototype names, bad encodings. */
function queryCases(prng: Prng, route: RouteSpec): Array<[string, string]> {
  const valid = new URLSearchParams(route.query ?? {}).toString();
  const and = (q: string) => (valid ? `${valid}&${q}` : q);
  const cases: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(route.query ?? {})) {
    const others = new URLSearchParams(Object.entries(route.query ?? {}).filter(([k]) => k !== name)).toString();
    const with_ = (q: string) => (others ? `${others}&${q}` : q);
    for (const v of prng.sample(QUERY_VALUES, 10)) cases.push([`${name}=${v}`, with_(`${name}=${v}`)]);
    cases.push([`${name} huge`, with_(`${name}=${'9'.repeat(prng.int(2_000, 8_000))}`)]);
    cases.push([
      `${name} repeated`,
      with_(`${name}=${encodeURIComponent(value)}&${name}=${encodeURIComponent(value)}`),
    ]);
    cases.push([`${name}[]`, with_(`${name}[]=${encodeURIComponent(value)}`)]);
    cases.push([`${name}[0]`, with_(`${name}[0]=${encodeURIComponent(value)}`)]);
    cases.push([`${name}[a][b]`, with_(`${name}[a][b]=${encodeURIComponent(value)}`)]);
    cases.push([`${name} and ${name}[]`, with_(`${name}=${encodeURIComponent(value)}&${name}[]=x`)]);
    cases.push([`${name} without =`, with_(name)]);
  }
  cases.push(['unknown parameter', and('foo=bar')]);
  cases.push(['__proto__', and('__proto__=x')]);
  cases.push(['__proto__[x]', and('__proto__[polluted]=1')]);
  cases.push(['constructor', and('constructor[prototype][polluted]=1')]);
  cases.push(['hasOwnProperty', and('hasOwnProperty=x')]);
  cases.push(['toString', and('toString=x&valueOf=1')]);
  cases.push(['empty name', and('=x')]);
  cases.push(['only separators', '&&&=&']);
  cases.push(['bad escape in a name', and('%zz=1')]);
  cases.push(['a thousand parameters and more', Array.from({ length: 1200 }, (_, i) => `p${i}=${i}`).join('&')]);
  return cases;
}

const OTHER_CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'application/json-patch+json',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'json',
  '*/*',
  ';;;',
];

/** Every hostile request for one route. */
export function fuzzRequests(prng: Prng, route: RouteSpec, admin: Record<string, string>): FuzzRequest[] {
  const valid = validRequest(route, admin);
  // a route that changes something no fuzz may do (Bull Board's pause, empty…) is only asked without the token
  const out: FuzzRequest[] = route.authOnly ? [] : [valid];
  const add = (name: string, over: Partial<FuzzRequest>) =>
    out.push({ ...valid, ...over, name, headers: over.headers ?? valid.headers });

  if (route.admin) {
    const withoutAuth = Object.fromEntries(Object.entries(valid.headers).filter(([k]) => k !== 'authorization'));
    const auth = (name: string, value?: string) =>
      add(`admin: ${name}`, { headers: value === undefined ? withoutAuth : { ...withoutAuth, authorization: value } });
    auth('no token');
    auth('wrong bearer token', 'Bearer wrong-token');
    auth('empty bearer', 'Bearer ');
    auth('bearer alone', 'Bearer');
    auth('huge bearer token', `Bearer ${'t'.repeat(prng.int(4_000, 8_000))}`);
    auth('latin-1 token', 'Bearer caf\u00e9');
    auth('basic with a wrong password', `Basic ${Buffer.from('admin:wrong').toString('base64')}`);
    auth('basic without a colon', `Basic ${Buffer.from('admin').toString('base64')}`);
    auth('basic that is not base64', 'Basic !!!not-base64***');
    auth('basic of invalid UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe, 0xc3, 0x28]).toString('base64')}`);
    auth('unknown scheme', 'Digest username="admin"');
    auth('token twice', `${admin.authorization}, ${admin.authorization}`);
  }
  if (route.authOnly) return out;

  // path parameters
  for (const name of Object.keys(route.params ?? {})) {
    for (const [what, segment] of hostileSegments(prng, route.params![name]))
      add(`:${name} ${what}`, { path: buildPath(route, { [name]: segment }) });
    add(`:${name} raw latin-1 byte`, { path: buildPath(route, { [name]: 'caf\u00e9' }), transport: true });
    add(`:${name} past the header limit`, {
      path: buildPath(route, { [name]: 'y'.repeat(prng.int(70_000, 90_000)) }),
      transport: true,
    });
  }
  // query strings (every route gets the unknown and prototype names; routes with parameters get theirs fuzzed)
  for (const [what, q] of queryCases(prng, route)) add(`query ${what}`, { path: buildPath(route, {}, q) });

  // headers the route reads
  for (const header of route.fuzzHeaders ?? []) {
    for (const [what, value] of [
      ['empty', ''],
      ['blank', '   '],
      ['one character', 'k'],
      ['255 characters', 'k'.repeat(255)],
      ['256 characters', 'k'.repeat(256)],
      ['huge', 'k'.repeat(prng.int(5_000, 9_000))],
      ['latin-1 bytes', '\u00ff\u00fe\u00e9'],
    ] as Array<[string, string]>)
      add(`header ${header} ${what}`, { headers: { ...valid.headers, [header]: value } });
  }

  // bodies: routes that take one get every mutation of it; the others a JSON body they do not expect
  // a body as written (text or bytes), and a JSON value written with toJson
  const raw = (v: Buffer | string, contentType = 'application/json', extra: Record<string, string> = {}) => ({
    body: Buffer.isBuffer(v) ? v : Buffer.from(v),
    headers: { ...jsonHeaders(route, admin), 'content-type': contentType, ...extra },
  });
  const json = (v: Json) => raw(toJson(v));
  const example: Json = route.body ?? { unexpected: 'body' };
  if (route.body !== undefined) {
    for (const at of paths(example)) {
      const current = at.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], example);
      for (const wrong of [...alwaysValues(current), ...prng.sample(hostileValues(prng), 8)])
        add(`${label(at)} = ${show(wrong)}`, json(withAt(example, at, () => wrong) as Json));
      if (at.length > 0) add(`${label(at)} missing`, json(withAt(example, at, () => REMOVE) as Json));
      if (current !== null && typeof current === 'object' && !Array.isArray(current) && !(current instanceof Raw)) {
        add(
          `${label(at)} with an extra field`,
          json(withAt(example, at, (o) => ({ ...(o as object), extra: 'field' })) as Json),
        );
        add(
          `${label(at)} with __proto__`,
          json(
            withAt(example, at, () => new Raw(`{"__proto__":{"polluted":true},${toJson(current).slice(1)}`)) as Json,
          ),
        );
        add(`${label(at)} with every field missing`, json(withAt(example, at, () => ({})) as Json));
        add(
          `${label(at)} with a huge key`,
          json(withAt(example, at, (o) => ({ ...(o as object), ['k'.repeat(prng.int(10_000, 50_000))]: 1 })) as Json),
        );
        add(
          `${label(at)} with a duplicated key`,
          json(
            withAt(
              example,
              at,
              () =>
                new Raw(
                  `{${Object.keys(current)
                    .map((k) => `${JSON.stringify(k)}:null`)
                    .join(',')}${Object.keys(current).length ? ',' : ''}${toJson(current).slice(1)}`,
                ),
            ) as Json,
          ),
        );
      }
      if (Array.isArray(current)) {
        add(`${label(at)} empty`, json(withAt(example, at, () => []) as Json));
        add(
          `${label(at)} with thousands of copies`,
          json(
            withAt(example, at, () =>
              Array.from({ length: prng.int(1_000, 3_000) }, () => clone(current[0] ?? null)),
            ) as Json,
          ),
        );
        add(
          `${label(at)} with a hole`,
          json(withAt(example, at, () => new Raw(`[${current.map((v) => toJson(v)).join(',')},,null]`)) as Json),
        );
      }
    }
  }
  const text = toJson(example);
  const quote = text.indexOf('"');
  const spliced = (bytes: number[]) =>
    quote >= 0
      ? Buffer.concat([Buffer.from(text.slice(0, quote + 1)), Buffer.from(bytes), Buffer.from(text.slice(quote + 1))])
      : Buffer.concat([Buffer.from(bytes), Buffer.from(text)]);
  const cuts = prng.sample(
    Array.from({ length: Math.max(1, text.length - 1) }, (_, i) => i + 1),
    4,
  );
  // what every route gets, a body or not: the body parser runs before any route
  add('empty body', raw(''));
  add(`truncated at ${cuts[0]}`, raw(text.slice(0, cuts[0])));
  add('invalid UTF-8 in a string', raw(spliced([0xff, 0xfe, 0xc3, 0x28])));
  add('body past the size limit', raw(`{"pad":"${'p'.repeat(prng.int(120_000, 200_000))}",${text.slice(1)}`));
  add('JSON as text/plain', raw(text, 'text/plain'));
  add(
    'form body',
    raw(
      'customerEmail=x&items[0][sku]=SKU-001&items[0][quantity]=2&__proto__[polluted]=1&a[b][c][d][e][f][g]=1',
      'application/x-www-form-urlencoded',
    ),
  );
  add('gzip bomb', raw(gzipBomb(), 'application/json', { 'content-encoding': 'gzip' }));
  add('unknown content encoding', raw(text, 'application/json', { 'content-encoding': 'compress' }));
  if (route.body === undefined) return out;
  // and what the routes that read one get besides
  add('whitespace body', raw(' \n\t '));
  for (const top of [
    'null',
    '0',
    '-0',
    '"x"',
    '[]',
    'true',
    '1e309',
    'NaN',
    '[',
    '{',
    '}',
    ',',
    '{"a":1,}',
    "{'a':1}",
    '{"a"}',
    '\u0000',
  ])
    add(`body ${JSON.stringify(top)}`, raw(top));
  for (const cut of cuts.slice(1)) add(`truncated at ${cut}`, raw(text.slice(0, cut)));
  add('overlong UTF-8', raw(spliced([0xc0, 0xaf])));
  add('UTF-8 encoded surrogate', raw(spliced([0xed, 0xa0, 0x80])));
  add('invalid UTF-8 outside a string', raw(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text)])));
  add('UTF-16 body', raw(Buffer.from(`\ufeff${text}`, 'utf16le')));
  add('byte order mark', raw(`\ufeff${text}`));
  add('NUL after the body', raw(`${text}\u0000`));
  add('two bodies', raw(`${text}${text}`));
  add('body of megabytes', raw(`[${'0,'.repeat(prng.int(600_000, 800_000))}0]`));
  add('JSON without a content type', { body: Buffer.from(text), headers: jsonHeaders(route, admin) });
  for (const type of OTHER_CONTENT_TYPES.filter((t) => t !== 'text/plain')) add(`JSON as ${type}`, raw(text, type));
  add(
    'multipart body',
    raw(
      '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
      'multipart/form-data; boundary=xyz',
    ),
  );
  add('gzip that is not gzip', raw(text, 'application/json', { 'content-encoding': 'gzip' }));
  add('brotli that is not brotli', raw(text, 'application/json', { 'content-encoding': 'br' }));
  add(
    'content length too small',
    raw(text, 'application/json', { 'content-length': String(Math.max(0, text.length - 3)) }),
  );
  return out;
}

/** Megabytes of blanks in a few kilobytes of gzip: made once (deflating 6 MB for every route costs seconds). */
let bomb: Buffer | undefined;
function gzipBomb(): Buffer {
  bomb ??= gzipSync(Buffer.alloc(6_000_000, 0x20));
  return bomb;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'];

/** Every method the table has no route for, on each of the table's paths (with valid parameters). */
export function methodRequests(routes: RouteSpec[], admin: Record<string, string>): FuzzRequest[] {
  const byPath = new Map<string, RouteSpec[]>();
  for (const r of routes) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const out: FuzzRequest[] = [];
  for (const same of byPath.values()) {
    const taken = new Set(same.map((r) => r.method));
    if (taken.has('GET')) taken.add('HEAD');
    for (const method of METHODS.filter((m) => !taken.has(m))) {
      const v = validRequest(same[0], admin);
      // on the paths of routes only asked without the token, the other methods go without it too
      if (same.every((r) => r.authOnly)) delete v.headers.authorization;
      // llhttp knows a fixed list of methods: FOO never reaches the app
      out.push({
        ...v,
        name: `method ${method}`,
        method,
        transport: method === 'FOO',
        headers: {
          ...v.headers,
          ...(method === 'GET' || method === 'HEAD' ? {} : { 'content-type': 'application/json' }),
        },
        body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from('{}'),
      });
    }
  }
  return out;
}

/** Sends one request as written. Rejects when no answer comes (a reset, a timeout): that is a failure too. */
export function send(base: string, req: FuzzRequest, timeoutMs = 15_000): Promise<FuzzResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // a connection of its own, closed after the answer: a server that answers before reading the whole body (a
    // 413) leaves the rest on the connection or resets it, and the next request must not meet that
    const headers: Record<string, string> = { connection: 'close', ...req.headers };
    if (req.body && headers['content-length'] === undefined) headers['content-length'] = String(req.body.length);
    let r: ReturnType<typeof request>;
    try {
      r = request({
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent: false,
        timeout: timeoutMs,
      });
    } catch (err) {
      reject(new Error(`the request could not be made: ${(err as Error).message}`));
      return;
    }
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.on('response', (res) => {
      if (req.route.sse && res.statusCode === 200) {
        resolve({ status: 200, headers: res.headers, body: Buffer.alloc(0) });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      // the answer came, and then the connection was reset under it: a server that closes with part of a request
      // body unread (one it had no use for) makes the kernel send a reset, which can cut its own answer short
      res.on('error', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut: true }),
      );
    });
    // a body the server refuses early (413) may meet a closed socket: the answer, if one came, is what counts
    r.on('socket', (s) => s.on('error', () => undefined));
    if (req.body && headers['content-length'] !== String(req.body.length))
      r.end(req.body.subarray(0, Number(headers['content-length'])));
    else r.end(req.body);
  });
}

/** Runs `work` over `items`, at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** The routes a Nest app logged at start ("Mapped {/orders/:id, GET} route"), as `GET /orders/:id`. */
export function mappedRoutes(log: string): string[] {
  return [...new Set([...log.matchAll(/Mapped \{([^,}]+), (\w+)\} route/g)].map((m) => `${m[2]} ${m[1]}`))].sort();
}
