import { ProtocolError } from '../errors';

/** Runs `fn` and returns the ProtocolError it throws; fails the test if it throws nothing or something else. */
export function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error('expected a ProtocolError');
}
