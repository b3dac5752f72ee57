// AMQP 0-9-1 framing: reading frames out of a byte stream and batching frames into one buffer.
//
// After the 8-byte protocol header ('A' 'M' 'Q' 'P' 0 0 9 1), both peers send frames:
//
//   0        1        3                 7                        7+size     8+size
//   +--------+--------+-----------------+------------------------+----------+
//   | type   | channel| size            | payload                | frame-end|
//   | octet  | short  | long (uint32)   | size octets            | 0xCE     |
//   +--------+--------+-----------------+------------------------+----------+
//
// type: 1 method, 2 content header, 3 content body, 8 heartbeat (channel 0, empty payload).
// The frame-max negotiated by connection.tune / tune-ok bounds the whole frame, so a frame carries at most
// frame-max - 8 payload bytes (FRAME_OVERHEAD = 7 header bytes + the frame-end octet).
//
//   method payload:  class-id (short) | method-id (short) | arguments
//   header payload:  class-id (short) | weight (short, 0) | body-size (longlong) | property flags + list
//   body payload:    a slice of the message body

import { ProtocolError } from './errors';
import { basicPropertiesMaxSize, encodeBasicPropertiesInto, type BasicProperties } from './content';
import { readU16, readU32, writeU16, writeU32, writeU64 } from './codec';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD, ReplyCode } from './generated/constants';
import { encodeMethodInto, methodMaxSize } from './generated/spec';

export {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FRAME_MIN_SIZE,
} from './generated/constants';

/** 'AMQP' 0 0 9 1: what a client sends first. */
export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
/** Bytes a frame adds to its payload: 7-byte header + frame-end octet. */
export const FRAME_OVERHEAD = 8;
const HEADER_SIZE = 7;

export type FrameHandler = (type: number, channel: number, payload: Buffer) => void;

/**
 * Splits a byte stream (after the protocol header) into frames. Frames wholly inside one chunk are passed on
 * as subarrays of that chunk, without copying; a frame split across chunks is assembled into its own buffer.
 * Frame types are not checked here. After any throw (from parsing or from onFrame) the parser refuses input:
 * the connection is to be closed.
 *
 * A reader that must stop taking frames (its peer does not read what the frames make it send) calls pause()
 * from onFrame: the rest of the chunk is held, unparsed, until resume().
 */
export class FrameParser {
  /** Largest frame accepted, overhead included (the negotiated frame-max). Larger frames are a 501 error. */
  maxFrameSize: number;
  /** Frame being assembled across chunks: the 7-byte header scratch, then the whole frame. */
  private partial: Buffer | null = null;
  private have = 0;
  private want = 0;
  private readonly head = Buffer.alloc(HEADER_SIZE);
  private failed = false;
  private paused = false;
  /** Input received while paused, in order; parsed by resume(). */
  private held: Buffer[] = [];
  /** Set while frames are being passed on: a resume() from inside onFrame lets that pass go on instead. */
  private parsing = false;

  constructor(maxFrameSize = 131072) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Calls onFrame for each frame completed by `chunk`, in order (none while paused: the chunk is held). */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    if (this.failed) throw new ProtocolError(ReplyCode.FRAME_ERROR, 'frame parser used after an error');
    if (this.paused) {
      this.held.push(chunk);
      return;
    }
    const outer = !this.parsing;
    this.parsing = true;
    try {
      this.parse(chunk, onFrame);
    } catch (err) {
      this.failed = true;
      this.partial = null;
      this.held = [];
      throw err;
    } finally {
      if (outer) this.parsing = false;
    }
  }

  /** Stops passing frames on after the current one; what is left of the input waits for resume(). */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes held back while paused. */
  get heldBytes(): number {
    let n = 0;
    for (const chunk of this.held) n += chunk.length;
    return n;
  }

  /** Parses what was held back while paused (and may be paused again by onFrame part way through). */
  resume(onFrame: FrameHandler): void {
    this.paused = false;
    // Called from onFrame: the pass in progress goes on with the rest of its chunk, then the held ones, in order.
    if (this.parsing) return;
    while (!this.paused && this.held.length > 0) this.push(this.held.shift() as Buffer, onFrame);
  }

  private parse(chunk: Buffer, onFrame: FrameHandler): void {
    const n = chunk.length;
    let o = 0;
    if (this.partial !== null) {
      o = this.fill(chunk, 0);
      if (this.have < this.want) return;
      if (this.want === HEADER_SIZE) {
        const size = readU32(this.head, 3);
        this.checkSize(size);
        const frame = Buffer.allocUnsafe(size + FRAME_OVERHEAD);
        this.head.copy(frame, 0);
        this.partial = frame;
        this.want = frame.length;
        o = this.fill(chunk, o);
        if (this.have < this.want) return;
      }
      const frame = this.partial;
      this.partial = null;
      const end = frame.length - 1;
      if (frame[end] !== FRAME_END) throw badFrameEnd(frame[end]);
      onFrame(frame[0], readU16(frame, 1), frame.subarray(HEADER_SIZE, end));
    }
    while (!this.paused && n - o >= HEADER_SIZE) {
      const size = readU32(chunk, o + 3);
      this.checkSize(size);
      const end = o + HEADER_SIZE + size; // offset of the frame-end octet
      if (end >= n) break;
      if (chunk[end] !== FRAME_END) throw badFrameEnd(chunk[end]);
      const start = o;
      o = end + 1;
      onFrame(chunk[start], readU16(chunk, start + 1), chunk.subarray(start + HEADER_SIZE, end));
    }
    if (this.paused) {
      if (o < n) this.held.unshift(chunk.subarray(o));
      return;
    }
    if (o < n) {
      if (n - o < HEADER_SIZE) {
        this.partial = this.head;
        this.want = HEADER_SIZE;
      } else {
        this.partial = Buffer.allocUnsafe(readU32(chunk, o + 3) + FRAME_OVERHEAD);
        this.want = this.partial.length;
      }
      this.have = 0;
      this.fill(chunk, o);
    }
  }

  /** Copies from chunk[offset..] into the partial frame; returns the chunk offset after what was taken. */
  private fill(chunk: Buffer, offset: number): number {
    const take = Math.min(this.want - this.have, chunk.length - offset);
    chunk.copy(this.partial as Buffer, this.have, offset, offset + take);
    this.have += take;
    return offset + take;
  }

  private checkSize(size: number): void {
    if (size + FRAME_OVERHEAD > this.maxFrameSize) {
      throw new ProtocolError(
        ReplyCode.FRAME_ERROR,
        `frame of ${size + FRAME_OVERHEAD} bytes exceeds the frame-max of ${this.maxFrameSize}`,
      );
    }
  }
}

function badFrameEnd(octet: number): ProtocolError {
  return new ProtocolError(ReplyCode.FRAME_ERROR, `frame-end octet is 0x${octet.toString(16)}, not 0xce`);
}

/** take() hands batches up to this size out as copies and keeps its buffer; larger ones give the buffer away. */
const COPY_OUT_LIMIT = 16 * 1024;
/** After giving its buffer away, a writer's next buffer is as large as the last one, up to this size. */
const MAX_KEPT_CAPACITY = 1024 * 1024;

/**
 * Batches frames into one growing buffer, for a single socket.write per batch. Frames are encoded straight
 * into the buffer; its capacity doubles as needed. The buffer is allocated on first use. A frame whose
 * encoding throws (RangeError: a shortstr over 255 bytes, a number out of its domain's range) is not added
 * and leaves the pending bytes as they were.
 */
export class FrameWriter {
  private buf: Buffer | null = null;
  private pos = 0;
  /** Size of the next buffer to allocate: the initial capacity, or the size of the buffer last given away. */
  private capacity: number;

  constructor(initialCapacity = 16 * 1024) {
    this.capacity = Math.max(initialCapacity, 1);
  }

  /** Bytes pending. */
  get length(): number {
    return this.pos;
  }

  /** A method frame; `args` is the method's args interface (missing fields default to 0 / false / '' / {}). */
  method(channel: number, methodId: number, args: object): void {
    const buf = this.reserve(FRAME_OVERHEAD + methodMaxSize(methodId, args));
    this.pos = writeMethodFrame(buf, this.pos, channel, methodId, args);
  }

  /** A content header frame with the given properties. */
  header(channel: number, classId: number, bodySize: number, properties: BasicProperties): void {
    const buf = this.reserve(FRAME_OVERHEAD + 12 + basicPropertiesMaxSize(properties));
    const start = this.pos;
    const end = encodeBasicPropertiesInto(buf, this.headerStart(buf, channel, classId, bodySize), properties);
    writeU32(buf, start + 3, end - start - HEADER_SIZE);
    buf[end] = FRAME_END;
    this.pos = end + 1;
  }

  /** A content header frame carrying property flags + list as received (ContentHeader.properties). */
  headerRaw(channel: number, classId: number, bodySize: number, rawProperties: Buffer): void {
    const buf = this.reserve(FRAME_OVERHEAD + 12 + rawProperties.length);
    const start = this.pos;
    const o = this.headerStart(buf, channel, classId, bodySize);
    const end = o + rawProperties.copy(buf, o);
    writeU32(buf, start + 3, end - start - HEADER_SIZE);
    buf[end] = FRAME_END;
    this.pos = end + 1;
  }

  /** Writes frame type, channel, class id, weight and body size; returns the offset of the property flags. */
  private headerStart(buf: Buffer, channel: number, classId: number, bodySize: number): number {
    const start = this.pos;
    buf[start] = FRAME_HEADER;
    writeU16(buf, start + 1, channel);
    writeU16(buf, start + 7, classId);
    writeU16(buf, start + 9, 0);
    return writeU64(buf, start + 11, bodySize);
  }

  /**
   * Body frames of at most frameMax - 8 payload bytes each (frameMax 0 = no limit, as in connection.tune).
   * An empty body writes no frame.
   */
  body(channel: number, body: Buffer, frameMax: number): void {
    if (body.length === 0) return;
    if (frameMax !== 0 && !(frameMax > FRAME_OVERHEAD)) throw new RangeError(`frame-max ${frameMax} is too small`);
    const max = frameMax === 0 ? body.length : frameMax - FRAME_OVERHEAD;
    const frames = Math.ceil(body.length / max);
    const buf = this.reserve(body.length + frames * FRAME_OVERHEAD);
    let o = this.pos;
    for (let from = 0; from < body.length; from += max) {
      const to = Math.min(from + max, body.length);
      buf[o] = FRAME_BODY;
      writeU16(buf, o + 1, channel);
      writeU32(buf, o + 3, to - from);
      o += HEADER_SIZE + body.copy(buf, o + HEADER_SIZE, from, to);
      buf[o++] = FRAME_END;
    }
    this.pos = o;
  }

  heartbeat(): void {
    const buf = this.reserve(FRAME_OVERHEAD);
    const o = this.pos;
    buf[o] = FRAME_HEARTBEAT;
    writeU16(buf, o + 1, 0);
    writeU32(buf, o + 3, 0);
    buf[o + 7] = FRAME_END;
    this.pos = o + 8;
  }

  /** The pending bytes, in a buffer the writer will not touch again; the writer is then empty. */
  take(): Buffer {
    const n = this.pos;
    const buf = this.buf;
    this.pos = 0;
    if (buf === null || n === 0) return Buffer.alloc(0);
    if (n <= COPY_OUT_LIMIT) {
      const out = Buffer.allocUnsafe(n);
      buf.copy(out, 0, 0, n);
      return out;
    }
    this.buf = null;
    this.capacity = Math.max(this.capacity, Math.min(buf.length, MAX_KEPT_CAPACITY));
    return buf.subarray(0, n);
  }

  /** Makes room for `n` more bytes and returns the buffer to write into at this.pos. */
  private reserve(n: number): Buffer {
    const buf = this.buf;
    if (buf !== null && this.pos + n <= buf.length) return buf;
    const size = Math.max(buf === null ? this.capacity : buf.length * 2, this.pos + n);
    const grown = Buffer.allocUnsafe(size);
    if (buf !== null) buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    return grown;
  }
}

/** Writes a method frame at `offset` (room for 8 + methodMaxSize assumed); returns the offset after it. */
function writeMethodFrame(buf: Buffer, offset: number, channel: number, methodId: number, args: object): number {
  buf[offset] = FRAME_METHOD;
  writeU16(buf, offset + 1, channel);
  const end = encodeMethodInto(buf, offset + HEADER_SIZE, methodId, args);
  writeU32(buf, offset + 3, end - offset - HEADER_SIZE);
  buf[end] = FRAME_END;
  return end + 1;
}

/** One method frame in its own buffer. */
export function encodeMethodFrame(channel: number, methodId: number, args: object): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_OVERHEAD + methodMaxSize(methodId, args));
  const end = writeMethodFrame(buf, 0, channel, methodId, args);
  return end === buf.length ? buf : Buffer.from(buf.subarray(0, end));
}
