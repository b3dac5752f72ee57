// A subset of Mailpit's search syntax (https://mailpit.axllent.org/docs/usage/search-filters/): terms are
// ANDed, case-insensitive substring matches; "quoted phrases" keep their spaces; a leading `-` or `!`
// negates a term. Supported: to:, from:, cc:, bcc:, subject:, message-id:, tag:, is:read, is:unread,
// has:attachment, and bare words (matched against subject, addresses, and the text body).
// Not supported (a 400 names the term): before:, after:, larger:, smaller:, reply-to:, addressed:, has:inline.
import { CapturedMessage, MailpitAddress } from './captured-message';

export class SearchQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchQueryError';
  }
}

type Predicate = (m: CapturedMessage) => boolean;

const TERM = /([-!]?)(?:([a-z-]+):)?("[^"]*"?|\S+)/gi;

const contains = (haystack: string, needle: string) => haystack.toLowerCase().includes(needle);
const inAddresses = (list: readonly (MailpitAddress | null)[], needle: string) =>
  list.some((a) => a !== null && (contains(a.Address, needle) || contains(a.Name, needle)));

function fieldPredicate(field: string, value: string): Predicate {
  switch (field) {
    case 'to':
      return (m) => inAddresses(m.to, value);
    case 'from':
      return (m) => inAddresses([m.from], value);
    case 'cc':
      return (m) => inAddresses(m.cc, value);
    case 'bcc':
      return (m) => inAddresses(m.bcc, value);
    case 'subject':
      return (m) => contains(m.subject, value);
    case 'message-id':
      return (m) => contains(m.messageId, value);
    case 'tag':
      return (m) => m.tags.some((t) => t.toLowerCase() === value);
    case 'is':
      if (value === 'read') return (m) => m.read;
      if (value === 'unread') return (m) => !m.read;
      break;
    case 'has':
      if (value === 'attachment' || value === 'attachments') return (m) => m.attachments.length > 0;
      break;
    case '':
      return (m) =>
        contains(m.subject, value) ||
        inAddresses([m.from, ...m.to, ...m.cc, ...m.bcc], value) ||
        contains(m.text, value) ||
        contains(m.messageId, value);
  }
  throw new SearchQueryError(`unsupported search term "${field}:${value}"`);
}

/** Compiles a query into one predicate; an empty query matches everything. */
export function compileSearch(query: string): Predicate {
  const predicates: Predicate[] = [];
  for (const [, negation, field = '', rawValue] of query.matchAll(TERM)) {
    const value = rawValue.replace(/^"|"$/g, '').toLowerCase();
    if (value === '') continue;
    const predicate = fieldPredicate(field.toLowerCase(), value);
    predicates.push(negation ? (m) => !predicate(m) : predicate);
  }
  return (m) => predicates.every((p) => p(m));
}
