// Warren's SMTP capture: an SMTP server that keeps what it receives (in memory, bounded) and an HTTP server
// that serves it with Mailpit's API routes. The demo and the tests run it in place of Mailpit, which docker
// compose uses; anything written against one works against the other. No AUTH, no TLS: it is a local
// development tool and listens on loopback unless told otherwise.
import { EventEmitter } from 'node:events';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { CapturedMessage, captureMessage } from './captured-message';
import { FailNext } from './fail-next';
import { HttpApi, HttpApiStats } from './http-api';
import { DEFAULT_MAX_MESSAGES, MessageStore } from './message-store';

export interface SmtpCaptureOptions {
  /** Interface both servers listen on (default 127.0.0.1). */
  host?: string;
  /** SMTP port (default 1025; 0 picks a free one). */
  smtpPort?: number;
  /** HTTP port (default 8025; 0 picks a free one). */
  httpPort?: number;
  /** How many messages to keep; the oldest goes first (default 1000). */
  maxMessages?: number;
  /** Largest message accepted, in bytes; larger ones get a 552 (default 10 MiB). Advertised with EHLO SIZE. */
  maxMessageSize?: number;
  /** How long close() lets open SMTP sessions finish before cutting them off, in ms (default 1000). */
  closeTimeoutMs?: number;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  smtpPort: 1025,
  httpPort: 8025,
  maxMessages: DEFAULT_MAX_MESSAGES,
  maxMessageSize: 10 * 1024 * 1024,
  closeTimeoutMs: 1000,
} as const;

/** An SMTP error reply: smtp-server sends `responseCode` and the message. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Events: `message` after a message is stored (before the sender gets its 250), `smtpError` for server errors. */
export interface SmtpCaptureEvents {
  message: [message: CapturedMessage];
  smtpError: [error: Error];
}

export class SmtpCapture extends EventEmitter<SmtpCaptureEvents> {
  readonly store: MessageStore;
  readonly failNext = new FailNext();
  private readonly options: Required<SmtpCaptureOptions>;
  private readonly stats: HttpApiStats = {
    startedAt: new Date(),
    smtpAccepted: 0,
    smtpAcceptedSize: 0,
    smtpRejected: 0,
  };
  private readonly smtp: SMTPServer;
  private readonly http: HttpServer;
  private ports?: { smtp: number; http: number };

  constructor(options: SmtpCaptureOptions = {}) {
    super();
    this.options = { ...DEFAULTS, ...stripUndefined(options) };
    this.store = new MessageStore(this.options.maxMessages);
    this.smtp = new SMTPServer({
      name: 'warren-smtp-capture',
      banner: 'Warren SMTP capture',
      secure: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: this.options.maxMessageSize,
      closeTimeout: this.options.closeTimeoutMs,
      logger: false,
      // a local capture has no use for the client's reverse DNS name, and the lookup can stall in sandboxes
      disableReverseLookup: true,
      onMailFrom: (_address, _session, callback) => {
        const code = this.failNext.take();
        if (code === undefined) return callback();
        this.stats.smtpRejected += 1;
        const kind = code < 500 ? 'temporary' : 'permanent';
        callback(
          smtpError(
            code,
            `Warren fail-next: injected ${kind} failure, ${this.failNext.state().remaining} more planned`,
          ),
        );
      },
      onData: (stream, session, callback) => this.receive(stream, session, callback),
    });
    this.smtp.on('error', (error) => this.emit('smtpError', error));
    this.http = createServer(new HttpApi(this.store, this.failNext, this.stats).handle);
  }

  /** Starts both servers; resolves with the ports they got. */
  async listen(): Promise<{ smtp: number; http: number }> {
    const { host } = this.options;
    const smtp = await listenOn(this.smtp.server, this.options.smtpPort, host);
    let http: number;
    try {
      http = await listenOn(this.http, this.options.httpPort, host);
    } catch (error) {
      await new Promise<void>((resolve) => this.smtp.close(() => resolve()));
      throw error;
    }
    this.ports = { smtp, http };
    return this.ports;
  }

  get host(): string {
    return this.options.host;
  }

  /** `smtp://host:port`, what services take as SMTP_URL. */
  get smtpUrl(): string {
    return `smtp://${hostForUrl(this.options.host)}:${this.listening().smtp}`;
  }

  /** `http://host:port`, the Mailpit-compatible API base. */
  get httpUrl(): string {
    return `http://${hostForUrl(this.options.host)}:${this.listening().http}`;
  }

  /** Stops both servers; open SMTP sessions get closeTimeoutMs to finish. */
  async close(): Promise<void> {
    await Promise.all([
      new Promise<void>((resolve) => this.smtp.close(() => resolve())),
      new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      }),
    ]);
  }

  private listening(): { smtp: number; http: number } {
    if (!this.ports) throw new Error('the SMTP capture is not listening yet: await listen() first');
    return this.ports;
  }

  /** Buffers the DATA stream (stopping at the size limit), parses it and stores it before replying 250. */
  private receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (error?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= this.options.maxMessageSize) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        this.stats.smtpRejected += 1;
        // smtp-server replies 552 itself for an oversized message; this error only names the reason.
        return callback(smtpError(552, `message exceeds the ${this.options.maxMessageSize}-byte limit`));
      }
      const raw = Buffer.concat(chunks);
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
      };
      captureMessage(raw, envelope).then(
        (message) => {
          this.store.add(message);
          this.stats.smtpAccepted += 1;
          this.stats.smtpAcceptedSize += raw.length;
          this.emit('message', message);
          callback(null, `Ok: queued as ${message.id}`);
        },
        (error: Error) => {
          this.stats.smtpRejected += 1;
          callback(smtpError(451, `could not store the message: ${error.message}`));
        },
      );
    });
    stream.on('error', (error: Error) => callback(smtpError(451, `error reading the message: ${error.message}`)));
  }
}

function listenOn(server: import('node:net').Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
