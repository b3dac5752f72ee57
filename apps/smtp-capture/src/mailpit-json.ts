// The JSON shapes of Mailpit's API v1 (swagger `MessagesSummary`, `MessageSummary`, `Message`), so a client
// written against Mailpit (docker compose) reads this capture unchanged. Mailpit fields left out: the
// message `Username` and `ListUnsubscribe` (newer Mailpit versions only).
import { CapturedMessage, CapturedPart, MailpitAddress, MailpitAttachment, snippetOf } from './captured-message';

export interface MessageSummaryJson {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: MailpitAddress | null;
  To: MailpitAddress[];
  Cc: MailpitAddress[];
  Bcc: MailpitAddress[];
  ReplyTo: MailpitAddress[];
  Subject: string;
  Created: string;
  Tags: string[];
  Size: number;
  /** A count in Mailpit's summary (attachments only, not inline parts). */
  Attachments: number;
  Snippet: string;
}

export interface MessagesSummaryJson {
  total: number;
  unread: number;
  count: number;
  messages_count: number;
  start: number;
  tags: string[];
  messages: MessageSummaryJson[];
}

export interface MessageJson {
  ID: string;
  MessageID: string;
  From: MailpitAddress | null;
  To: MailpitAddress[];
  Cc: MailpitAddress[];
  Bcc: MailpitAddress[];
  ReplyTo: MailpitAddress[];
  ReturnPath: string;
  Subject: string;
  Date: string;
  Tags: string[];
  Text: string;
  HTML: string;
  Size: number;
  Inline: MailpitAttachment[];
  Attachments: MailpitAttachment[];
}

export function summaryJson(m: CapturedMessage): MessageSummaryJson {
  return {
    ID: m.id,
    MessageID: m.messageId,
    Read: m.read,
    From: m.from,
    To: m.to,
    Cc: m.cc,
    Bcc: m.bcc,
    ReplyTo: m.replyTo,
    Subject: m.subject,
    Created: m.created.toISOString(),
    Tags: m.tags,
    Size: m.raw.length,
    Attachments: m.attachments.length,
    Snippet: snippetOf(m),
  };
}

export function messageJson(m: CapturedMessage): MessageJson {
  return {
    ID: m.id,
    MessageID: m.messageId,
    From: m.from,
    To: m.to,
    Cc: m.cc,
    Bcc: m.bcc,
    ReplyTo: m.replyTo,
    ReturnPath: m.returnPath,
    Subject: m.subject,
    Date: m.date.toISOString(),
    Tags: m.tags,
    Text: m.text,
    HTML: m.html,
    Size: m.raw.length,
    Inline: m.inline.map(attachmentJson),
    Attachments: m.attachments.map(attachmentJson),
  };
}

function attachmentJson({ PartID, FileName, ContentType, ContentID, Size }: CapturedPart): MailpitAttachment {
  return { PartID, FileName, ContentType, ContentID, Size };
}

/** A page of messages: `total`/`unread`/`tags` describe the mailbox, `messages_count` the matches. */
export function messagesSummaryJson(
  matches: readonly CapturedMessage[],
  page: { start: number; limit: number },
  mailbox: { total: number; unread: number; tags: string[] },
): MessagesSummaryJson {
  const messages = matches.slice(page.start, page.start + page.limit).map(summaryJson);
  return {
    total: mailbox.total,
    unread: mailbox.unread,
    count: messages.length,
    messages_count: matches.length,
    start: page.start,
    tags: mailbox.tags,
    messages,
  };
}
