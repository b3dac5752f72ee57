import { MessagingError } from './messaging.error';

/** No reply arrived within the RPC timeout (the server is slow, stuck, or lost the request). */
export class RpcTimeoutError extends MessagingError {
  constructor(
    readonly routingKey: string,
    readonly timeoutMs: number,
  ) {
    super('RPC_TIMEOUT', `no reply to '${routingKey}' within ${timeoutMs} ms`);
  }
}

/** The RPC server answered with an error. `remoteCode` is the server-side error's code, when it had one. */
export class RpcRemoteError extends MessagingError {
  constructor(
    readonly routingKey: string,
    message: string,
    readonly remoteCode?: string,
  ) {
    super('RPC_REMOTE_ERROR', `'${routingKey}' failed on the server: ${message}`);
  }
}
