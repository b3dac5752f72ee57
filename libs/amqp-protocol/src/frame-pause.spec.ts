import fc from 'fast-check';
import {
  CHANNEL_CLOSE_OK,
  encodeMethodFrame,
  FRAME_BODY,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FrameParser,
  ProtocolError,
} from './index';
import { frameBytes, type Frame } from './testing/frames';

const frame = (channel: number, text: string): Frame => ({ type: FRAME_BODY, channel, payload: Buffer.from(text) });
const A = frame(1, 'first');
const B = frame(2, 'second frame');
const C = frame(3, '');
const D = frame(4, 'fourth');
const [a, b, c, d] = [A, B, C, D].map(frameBytes);

/** A parser and what it delivered; `pauseOn` lists channels whose frame pauses the parser. */
function harness(pauseOn: number[] = []) {
  const parser = new FrameParser();
  const seen: number[] = [];
  const onFrame = (type: number, channel: number, payload: Buffer) => {
    expect(type).toBe(FRAME_BODY);
    seen.push(channel);
    expect(payload.toString()).toBe([A, B, C, D][channel - 1].payload.toString());
    if (pauseOn.includes(channel)) parser.pause();
  };
  return { parser, seen, onFrame };
}

describe('FrameParser pause and resume', () => {
  it('delivers nothing after a pause in onFrame until resume, then the rest in order', () => {
    const { parser, seen, onFrame } = harness([1]);
    const chunk = Buffer.concat([a, b, c]);
    parser.push(chunk, onFrame);
    expect(seen).toEqual([1]);
    expect(parser.isPaused).toBe(true);
    expect(parser.heldBytes).toBe(b.length + c.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3]);
    expect(parser.isPaused).toBe(false);
    expect(parser.heldBytes).toBe(0);
  });

  it('holds every chunk pushed while paused, in order, and counts their bytes', () => {
    const { parser, seen, onFrame } = harness([1]);
    parser.push(Buffer.concat([a, b.subarray(0, 3)]), onFrame); // B's header split
    expect(seen).toEqual([1]);
    expect(parser.heldBytes).toBe(3);
    parser.push(b.subarray(3, 10), onFrame);
    parser.push(Buffer.concat([b.subarray(10), c, d.subarray(0, 9)]), onFrame);
    expect(seen).toEqual([1]);
    expect(parser.heldBytes).toBe(b.length + c.length + 9);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3]);
    expect(parser.heldBytes).toBe(0);
    parser.push(d.subarray(9), onFrame); // D was still partly missing
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('assembles a frame split across chunks around a pause', () => {
    const { parser, seen, onFrame } = harness([1]);
    // A complete, then the first half of B, paused on A: the half is held, not taken as a partial frame
    parser.push(Buffer.concat([a, b.subarray(0, 12)]), onFrame);
    parser.push(Buffer.concat([b.subarray(12), c]), onFrame);
    expect(seen).toEqual([1]);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('pauses on a frame it assembled from several chunks and holds the rest of the last chunk', () => {
    const { parser, seen, onFrame } = harness([2]);
    parser.push(Buffer.concat([a, b.subarray(0, 5)]), onFrame);
    parser.push(b.subarray(5, 9), onFrame);
    parser.push(Buffer.concat([b.subarray(9), c, d]), onFrame);
    expect(seen).toEqual([1, 2]);
    expect(parser.heldBytes).toBe(c.length + d.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('can be paused again during resume, and resumed again', () => {
    const { parser, seen, onFrame } = harness([1, 2, 3]);
    parser.push(Buffer.concat([a, b]), onFrame);
    parser.push(Buffer.concat([c, d]), onFrame);
    expect(seen).toEqual([1]);
    expect(parser.heldBytes).toBe(b.length + c.length + d.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2]);
    expect(parser.isPaused).toBe(true);
    expect(parser.heldBytes).toBe(c.length + d.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3]);
    expect(parser.heldBytes).toBe(d.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(parser.isPaused).toBe(false);
    expect(parser.heldBytes).toBe(0);
  });

  it('holds input when paused outside onFrame, and resume without held input does nothing', () => {
    const { parser, seen, onFrame } = harness();
    parser.resume(onFrame);
    expect(seen).toEqual([]);
    parser.pause();
    parser.push(Buffer.concat([a, b]), onFrame);
    expect(seen).toEqual([]);
    expect(parser.heldBytes).toBe(a.length + b.length);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2]);
  });

  it('holds nothing when the pausing frame ends its chunk', () => {
    const { parser, seen, onFrame } = harness([2]);
    parser.push(Buffer.concat([a, b]), onFrame);
    expect(parser.isPaused).toBe(true);
    expect(parser.heldBytes).toBe(0);
    parser.push(c, onFrame);
    expect(seen).toEqual([1, 2]);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('fails on a bad held frame at resume, and is unusable afterwards', () => {
    const { parser, seen, onFrame } = harness([1]);
    const bad = Buffer.from(b);
    bad[bad.length - 1] = 0;
    parser.push(Buffer.concat([a, bad, c]), onFrame);
    expect(() => parser.resume(onFrame)).toThrow(ProtocolError);
    expect(seen).toEqual([1]);
    expect(parser.heldBytes).toBe(0);
    expect(() => parser.push(c, onFrame)).toThrow(/used after an error/);
  });

  it('delivers every frame once, in order, whatever the chunking and the pauses', () => {
    const frameArb = fc.record({
      type: fc.constantFrom(FRAME_METHOD, FRAME_BODY, FRAME_HEARTBEAT),
      channel: fc.integer({ min: 0, max: 0xffff }),
      payload: fc.uint8Array({ maxLength: 60 }).map((x) => Buffer.from(x)),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(frameArb, fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        (list, cuts, resumeNow) => {
          const frames = list.map(([f]) => f);
          const pauses = list.map(([, p]) => p);
          const all = Buffer.concat(frames.map(frameBytes));
          const ends: number[] = [];
          frames.reduce((at, f) => (ends.push(at + f.payload.length + 8), at + f.payload.length + 8), 0);
          const points = [...new Set(cuts.map((x) => x % (all.length + 1)))].sort((x, y) => x - y);
          const chunks = [0, ...points].map((from, i, p) => all.subarray(from, p[i + 1] ?? all.length));

          const parser = new FrameParser();
          const seen: Frame[] = [];
          let pausedByUs = false;
          const onFrame = (type: number, channel: number, payload: Buffer) => {
            expect(pausedByUs).toBe(false); // nothing is delivered between pause() and resume()
            const i = seen.length;
            seen.push({ type, channel, payload: Buffer.from(payload) });
            if (pauses[i]) {
              parser.pause();
              pausedByUs = true;
            }
          };
          const resume = () => {
            pausedByUs = false;
            parser.resume(onFrame);
          };
          /** While paused, the parser holds exactly what it has been given after the last frame it delivered. */
          const checkHeld = (pushed: number) => {
            if (!parser.isPaused) return;
            const consumed = seen.length === 0 ? 0 : ends[seen.length - 1];
            expect(parser.heldBytes).toBe(pushed - consumed);
          };

          let pushed = 0;
          chunks.forEach((chunk, i) => {
            parser.push(chunk, onFrame);
            pushed += chunk.length;
            checkHeld(pushed);
            if (resumeNow[i] ?? true) {
              while (parser.isPaused) {
                resume();
                checkHeld(pushed);
              }
            }
          });
          while (parser.isPaused) {
            resume();
            checkHeld(pushed);
          }
          expect(parser.heldBytes).toBe(0);
          expect(seen).toEqual(frames);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('FrameParser: resume() from inside onFrame', () => {
  it('keeps frame order when a frame pauses and resumes while held chunks wait', () => {
    const frame = (n: number) => encodeMethodFrame(n, CHANNEL_CLOSE_OK, {});
    const parser = new FrameParser();
    const seen: number[] = [];
    const onFrame = (_type: number, channel: number) => {
      seen.push(channel);
      if (channel === 1) parser.pause();
      if (channel === 3) {
        parser.pause();
        parser.resume(onFrame);
      }
    };
    parser.push(Buffer.concat([frame(1), frame(2)]), onFrame);
    parser.push(Buffer.concat([frame(3), frame(4)]), onFrame);
    parser.push(Buffer.concat([frame(5), frame(6)]), onFrame);
    expect(seen).toEqual([1]);
    parser.resume(onFrame);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
