import { FRAME_END } from '../generated/constants';

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

/** A frame's bytes, written by hand (type, channel, size, payload, frame-end) so tests do not trust the writer. */
export function frameBytes({ type, channel, payload }: Frame): Buffer {
  const head = Buffer.alloc(7);
  head[0] = type;
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}
