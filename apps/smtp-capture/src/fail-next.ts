// Fault injection, a Warren addition (Mailpit has nothing like it; its "Chaos" triggers are random). The
// next `remaining` deliveries are refused at MAIL FROM with `code`, so a sender's retry path can be shown
// deterministically: 421 (the default) is temporary and closes the connection, as RFC 5321 says it must;
// a 5xx is permanent and a well-behaved sender gives up on the message.

/** What `GET /api/warren/fail-next` returns. */
export interface FailNextState {
  /** Deliveries still to be refused. */
  remaining: number;
  /** SMTP reply code they get. */
  code: number;
}

export const DEFAULT_FAIL_CODE = 421;

/** Thrown (with a message fit for a 400 reply) when a fail-next request is malformed. */
export class FailNextRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FailNextRequestError';
  }
}

/**
 * A value named in a 400's reason: numbers and short strings as JSON, anything else by its kind. JSON.stringify
 * of what the client sent would echo a megabyte string back, or overflow the stack on an object nested thousands
 * deep (a 500).
 */
function shown(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string')
    return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

export class FailNext {
  private remaining = 0;
  private code = DEFAULT_FAIL_CODE;

  state(): FailNextState {
    return { remaining: this.remaining, code: this.code };
  }

  /** Applies a `POST /api/warren/fail-next` body: `{ "count": n, "code"?: 4xx | 5xx }`; count 0 clears. */
  configure(body: unknown): FailNextState {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FailNextRequestError('body must be a JSON object like {"count": 2, "code": 421}');
    }
    const { count, code = DEFAULT_FAIL_CODE } = body as Record<string, unknown>;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new FailNextRequestError(`"count" must be a non-negative integer, got ${shown(count)}`);
    }
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 599) {
      throw new FailNextRequestError(`"code" must be an SMTP error code from 400 to 599, got ${shown(code)}`);
    }
    this.remaining = count;
    this.code = code;
    return this.state();
  }

  clear(): FailNextState {
    this.remaining = 0;
    this.code = DEFAULT_FAIL_CODE;
    return this.state();
  }

  /** Consumes one planned failure: the reply code to refuse this delivery with, or undefined to accept it. */
  take(): number | undefined {
    if (this.remaining === 0) return undefined;
    this.remaining -= 1;
    return this.code;
  }
}
