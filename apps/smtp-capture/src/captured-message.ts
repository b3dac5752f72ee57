// One received email as the capture keeps it: the raw bytes exactly as they arrived over SMTP, plus the
// fields Mailpit's API reports, parsed once on receipt by mailparser. Field names follow Mailpit's JSON
// (From/To/Cc/Bcc/ReplyTo as {Name, Address}, attachments as {PartID, FileName, ContentType, ContentID, Size}).
import { randomBytes } from 'node:crypto';
import { AddressObject, EmailAddress, simpleParser } from 'mailparser';

export interface MailpitAddress {
  Name: string;
  Address: string;
}

export interface MailpitAttachment {
  PartID: string;
  FileName: string;
  ContentType: string;
  ContentID: string;
  Size: number;
}

/** An attachment or inline part with its decoded bytes, served by `/api/v1/message/{ID}/part/{PartID}`. */
export interface CapturedPart extends MailpitAttachment {
  content: Buffer;
}

/** The SMTP envelope: MAIL FROM and RCPT TO, which may differ from the headers (Bcc, bounces). */
export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
}

export interface CapturedMessage {
  /** Database ID in Mailpit's terms: how the API names the message. */
  id: string;
  raw: Buffer;
  /** When the capture received it. */
  created: Date;
  read: boolean;
  /** The Message-ID header without angle brackets ('' when absent). */
  messageId: string;
  from: MailpitAddress | null;
  to: MailpitAddress[];
  cc: MailpitAddress[];
  bcc: MailpitAddress[];
  replyTo: MailpitAddress[];
  returnPath: string;
  subject: string;
  /** The Date header, or the receive time when it is missing or unreadable. */
  date: Date;
  tags: string[];
  text: string;
  html: string;
  inline: CapturedPart[];
  attachments: CapturedPart[];
  /** Header name (canonical case, as Go spells it: `Message-Id`) → every value, in order. */
  headers: Map<string, string[]>;
  /** Why parsing failed, when it did: the message is kept with its raw source and empty fields. */
  parseError?: string;
}

const SNIPPET_LENGTH = 250;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character base62 ID, the same look as Mailpit's (about 131 random bits). */
export function newMessageId(): string {
  const bytes = randomBytes(22);
  let id = '';
  for (const byte of bytes) id += BASE62[byte % 62];
  return id;
}

/** Go's textproto canonical form, which Mailpit's header map uses: `content-type` → `Content-Type`. */
export function canonicalHeaderKey(key: string): string {
  return key
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

/** Mailpit's list snippet: the text body with whitespace collapsed, at most 250 characters. */
export function snippetOf(message: CapturedMessage): string {
  return message.text.replace(/\s+/g, ' ').trim().slice(0, SNIPPET_LENGTH);
}

/** Parses what arrived; never throws: an unparseable message is kept with what its raw source gives. */
export async function captureMessage(raw: Buffer, envelope: Envelope, created = new Date()): Promise<CapturedMessage> {
  const base: CapturedMessage = {
    id: newMessageId(),
    raw,
    created,
    read: false,
    messageId: '',
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    returnPath: envelope.mailFrom,
    subject: '',
    date: created,
    tags: [],
    text: '',
    html: '',
    inline: [],
    attachments: [],
    headers: new Map(),
  };
  let parsed;
  try {
    parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  } catch (error) {
    return { ...base, text: raw.toString('utf8'), parseError: (error as Error).message };
  }

  const headers = new Map<string, string[]>();
  for (const { line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = canonicalHeaderKey(line.slice(0, colon).trim());
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }

  const to = addresses(parsed.to);
  const cc = addresses(parsed.cc);
  const bcc = addresses(parsed.bcc);
  // Like Mailpit, recipients that only the envelope names (blind copies) are reported as Bcc.
  const named = new Set([...to, ...cc, ...bcc].map((a) => a.Address.toLowerCase()));
  for (const rcpt of envelope.rcptTo) {
    if (!named.has(rcpt.toLowerCase())) {
      named.add(rcpt.toLowerCase());
      bcc.push({ Name: '', Address: rcpt });
    }
  }

  const parts = parsed.attachments.map((attachment, index) => ({
    isInline: attachment.related === true || (attachment.contentDisposition === 'inline' && Boolean(attachment.cid)),
    part: {
      PartID: attachment.partId ?? String(index + 1),
      FileName: attachment.filename ?? '',
      ContentType: attachment.contentType,
      ContentID: attachment.cid ?? '',
      Size: attachment.size ?? attachment.content.length,
      content: attachment.content,
    },
  }));

  const returnPath = headers.get('Return-Path')?.[0]?.replace(/^<|>$/g, '');
  return {
    ...base,
    messageId: (parsed.messageId ?? '').replace(/^<|>$/g, ''),
    from: addresses(parsed.from)[0] ?? null,
    to,
    cc,
    bcc,
    replyTo: addresses(parsed.replyTo),
    returnPath: returnPath ?? envelope.mailFrom,
    subject: parsed.subject ?? '',
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : created,
    tags: tagsOf(headers.get('X-Tags') ?? []),
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    inline: parts.filter((p) => p.isInline).map((p) => p.part),
    attachments: parts.filter((p) => !p.isInline).map((p) => p.part),
    headers: new Map([...headers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** Mailpit reads tags from `X-Tags: a, b`; sorted and unique here. */
function tagsOf(values: string[]): string[] {
  const tags = values
    .flatMap((v) => v.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return [...new Set(tags)].sort();
}

function addresses(field: AddressObject | AddressObject[] | undefined): MailpitAddress[] {
  if (!field) return [];
  const objects = Array.isArray(field) ? field : [field];
  const flat = (list: EmailAddress[]): EmailAddress[] => list.flatMap((a) => (a.group ? flat(a.group) : [a]));
  return flat(objects.flatMap((o) => o.value))
    .filter((a) => a.address || a.name)
    .map((a) => ({ Name: a.name ?? '', Address: a.address ?? '' }));
}
