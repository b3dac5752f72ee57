// Method payloads in their own buffers; the FrameWriter encodes methods in place instead.

import { encodeMethodInto, methodMaxSize } from './generated/spec';

/** A method frame's payload: class id, method id and arguments (missing fields as 0 / false / '' / empty). */
export function encodeMethod(methodId: number, args: object): Buffer {
  const buf = Buffer.allocUnsafe(methodMaxSize(methodId, args));
  const end = encodeMethodInto(buf, 0, methodId, args);
  return end === buf.length ? buf : Buffer.from(buf.subarray(0, end));
}
