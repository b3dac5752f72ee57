import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';

// Clickstream events, published by analytics' collector on `warren.events` with routing key
// `clickstream.<type>`, so a consumer can take only clicks, only page views, or both. Every string in them ends
// up in Redis and on the dashboard, so each has a shape that cannot carry script URLs, control characters (a
// NUL or CR/LF splits log lines and keys) or lone surrogates (not encodable as UTF-8): see apps/analytics/README.md.

/** Control characters (C0, DEL, C1), line and paragraph separators, and surrogates not part of a pair (u flag). */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;

/** Visitor and session ids: 1 to 128 letters, digits, `.`, `_`, `:` or `-` (a UUID, a cookie value, `visitor-42`). */
export const ClickstreamId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 characters, each a letter, a digit or one of . _ : -');

/** An absolute http: or https: URL as the WHATWG URL parser reads it, at most 2048 characters, no whitespace. */
export const HttpUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine(isHttpUrl, 'must be an http(s) URL (absolute, no whitespace or control characters)');

/** Free text (a page title, an element's label): at most `max` characters, none of them unsafe. */
export function SafeText(max: number) {
  return z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !UNSAFE_CHARACTER.test(s), 'must not contain control characters, line breaks or lone surrogates');
}

function isHttpUrl(s: string): boolean {
  // the parser would quietly drop tabs and newlines and trim blanks; what is stored is the string as sent
  if (/\s/.test(s) || UNSAFE_CHARACTER.test(s)) return false;
  try {
    const { protocol } = new URL(s);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const base = {
  visitorId: ClickstreamId,
  sessionId: ClickstreamId.optional(),
  url: HttpUrl,
  /** When it happened on the client; the collector fills in the receive time when absent. */
  at: z.string().datetime(),
  /** Where the visitor came from; '' (a browser's document.referrer when there is none) means none. */
  referrer: HttpUrl.or(z.literal('')).optional(),
};

export const PageView = defineMessage(
  'clickstream.page_view',
  z.object({ type: z.literal('page_view'), ...base, title: SafeText(512).optional() }),
);
export type PageView = Payload<typeof PageView>;

export const Click = defineMessage(
  'clickstream.click',
  z.object({ type: z.literal('click'), ...base, element: SafeText(256).optional() }),
);
export type Click = Payload<typeof Click>;
