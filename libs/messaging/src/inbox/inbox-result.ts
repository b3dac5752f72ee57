/** What an inbox did with a message: ran the handler, or recognised a message it had already handled. */
export type InboxResult<T> = { duplicate: false; result: T } | { duplicate: true };
