import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  mail: ParsedMail;
  at: number;
  key: string;
}

/** A real SMTP server on a free loopback port that keeps what it receives and can refuse the next n deliveries with 421. */
export class TestSmtp {
  readonly received: Received[] = [];
  failNext = 0;
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData: (stream, _session, callback) => {
      if (this.failNext > 0) {
        this.failNext--;
        stream.resume();
        stream.on('end', () =>
          callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 421 })),
        );
        return;
      }
      simpleParser(stream).then(
        (mail) => {
          this.received.push({ mail, at: Date.now(), key: String(mail.headers.get('x-warren-key') ?? '') });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  withKey(key: string): Received[] {
    return this.received.filter((r) => r.key === key);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
