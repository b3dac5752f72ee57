// Shared by the suites: a capture on free loopback ports, a nodemailer transport pointed at it, and small
// HTTP helpers over global fetch.
import nodemailer, { SendMailOptions } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { SmtpCapture, SmtpCaptureOptions } from '../../src/smtp-capture';

export interface Harness {
  capture: SmtpCapture;
  send(mail: SendMailOptions): Promise<SMTPTransport.SentMessageInfo>;
  get(path: string): Promise<Response>;
  json<T = any>(path: string): Promise<T>;
  request(method: string, path: string, body?: string | object): Promise<Response>;
  close(): Promise<void>;
}

export async function startCapture(options: SmtpCaptureOptions = {}): Promise<Harness> {
  const capture = new SmtpCapture({ host: '127.0.0.1', smtpPort: 0, httpPort: 0, closeTimeoutMs: 100, ...options });
  await capture.listen();
  // One connection per message (no pool): each send is one SMTP session, as a retrying sender would make.
  const transport = nodemailer.createTransport({ url: capture.smtpUrl, ignoreTLS: true } as SMTPTransport.Options);
  const request = (method: string, path: string, body?: string | object) =>
    fetch(`${capture.httpUrl}${path}`, {
      method,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    });
  return {
    capture,
    send: (mail) => transport.sendMail(mail),
    get: (path) => request('GET', path),
    async json(path) {
      const res = await request('GET', path);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as any;
    },
    request,
    async close() {
      transport.close();
      await capture.close();
    },
  };
}
