import { MessagingError } from '../errors';

/**
 * The brokers of a `url` option (or AMQP_URL): one `amqp://` / `amqps://` URL, or several separated by commas,
 * tried in turn (connection.ts says in which order). A comma inside a password must be percent-encoded (%2C), as
 * any reserved character in a URL. Throws INVALID_URL naming the entry (password masked) when one is not an AMQP URL.
 */
export function parseBrokerUrls(url: string): string[] {
  if (typeof url !== 'string')
    throw new MessagingError('INVALID_URL', `url must be a string of amqp:// or amqps:// URLs, got ${typeof url}`);
  const urls = url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (urls.length === 0)
    throw new MessagingError(
      'INVALID_URL',
      'url is empty: need an amqp:// or amqps:// URL (several separated by commas)',
    );
  for (const u of urls) {
    let protocol: string;
    try {
      protocol = new URL(u).protocol;
    } catch {
      throw new MessagingError(
        'INVALID_URL',
        `'${redactUrl(u)}' in url is not a URL: need amqp://user:pass@host:port/vhost`,
      );
    }
    if (protocol !== 'amqp:' && protocol !== 'amqps:')
      throw new MessagingError('INVALID_URL', `'${redactUrl(u)}' in url is not an amqp:// or amqps:// URL`);
  }
  return urls;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** Any text with every `scheme://user:password@` in it masked: what a log line may carry from an error. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}
