import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import { ExportTraceServiceRequest } from '../../contracts/traces';
import type { TraceReceiver } from './trace-receiver';

/**
 * POST /v1/traces, OTLP/HTTP's path for traces, as a plain handler in front of Nest: Nest's JSON body parser
 * (100 kB, and errors in its own shape) would otherwise read the body first, and an exporter's batch of 512 spans
 * is larger than that. The handler reads the body itself, within the receiver's byte bound, and answers as OTLP
 * asks: 200 `{}` (or a partialSuccess), 400 for a body that is not an ExportTraceServiceRequest (every problem
 * listed, in the console's usual 400 shape), 413 past the bound, 415 for anything but JSON (the console reads no
 * protobuf: the exporter must be told so), 405 for another method.
 */

const PROTOCOL_HINT =
  'this console reads OTLP/HTTP JSON only: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) on the exporting service';
/** At most this many problems are listed in a 400: a batch of 512 bad spans would otherwise answer 512 of each. */
const MAX_ISSUES = 20;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

const ERRORS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** The request body, no more than `limit` bytes of it: past that, a 413 (a declared length past it is refused before reading). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit)
      return reject(
        new Refusal(
          413,
          `the body is ${declared} bytes; this console reads at most ${limit} (CONSOLE_OTLP_MAX_BYTES), so export smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`,
        ),
      );
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(
          new Refusal(
            413,
            `the body is past ${limit} bytes, the most this console reads (CONSOLE_OTLP_MAX_BYTES), so export smaller batches (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function inflate(body: Buffer, encoding: string, limit: number): Promise<Buffer> {
  if (encoding === '' || encoding === 'identity') return Promise.resolve(body);
  if (encoding !== 'gzip')
    return Promise.reject(
      new Refusal(
        415,
        `content-encoding '${encoding}' is not read here: send gzip or none (OTEL_EXPORTER_OTLP_COMPRESSION)`,
      ),
    );
  return new Promise((resolve, reject) =>
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        return reject(
          new Refusal(
            413,
            `the body inflates past ${limit} bytes, the most this console reads (CONSOLE_OTLP_MAX_BYTES)`,
          ),
        );
      reject(new Refusal(400, `the body is not valid gzip: ${err.message}`));
    }),
  );
}

async function handle(receiver: TraceReceiver, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // mounted at /v1/traces: what is left of the path must be nothing
  const rest = (req.url ?? '/').split('?')[0];
  if (rest !== '/' && rest !== '')
    throw new Refusal(404, `no route ${req.method} /v1/traces${rest}: OTLP traces are POSTed to /v1/traces`);
  if (req.method !== 'POST') throw new Refusal(405, `${req.method} /v1/traces: OTLP traces are POSTed`);
  const contentType = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (contentType !== 'application/json') {
    const got =
      contentType === 'application/x-protobuf' || contentType === 'application/protobuf'
        ? 'a protobuf body'
        : contentType
          ? `a body of type ${contentType}`
          : 'a body without a content type';
    throw new Refusal(415, `${got}: ${PROTOCOL_HINT}`);
  }
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const limit = receiver.settings.maxBodyBytes;
  const raw = await readBody(req, limit);
  const text = (await inflate(raw, encoding, limit)).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Refusal(400, `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = ExportTraceServiceRequest.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
    const shown = issues.slice(0, MAX_ISSUES);
    if (issues.length > MAX_ISSUES)
      shown.push({ path: '(body)', message: `and ${issues.length - MAX_ISSUES} more problems` });
    throw new Refusal(400, 'the body is not an OTLP ExportTraceServiceRequest (OTLP/HTTP JSON)', shown);
  }
  send(
    res,
    200,
    receiver.accept(parsed.data, {
      body: raw,
      contentType: String(req.headers['content-type']),
      ...(encoding ? { contentEncoding: encoding } : {}),
    }),
  );
}

/** The handler for app.use('/v1/traces', …). */
export function otlpTracesHandler(receiver: TraceReceiver): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(receiver, req, res).catch((err: unknown) => {
      if (!(err instanceof Refusal)) {
        send(res, 500, {
          statusCode: 500,
          error: 'Internal Server Error',
          message: (err as Error).message ?? String(err),
        });
        return;
      }
      receiver.refuse(`${err.status}: ${err.message}`);
      send(
        res,
        err.status,
        {
          statusCode: err.status,
          error: ERRORS[err.status],
          message: err.message,
          ...(err.issues ? { issues: err.issues } : {}),
        },
        {
          ...(err.status === 405 ? { allow: 'POST' } : {}),
          // the rest of a refused body is not worth reading: end the connection after the answer
          ...(err.status === 413 ? { connection: 'close' } : {}),
        },
      );
    });
  };
}
