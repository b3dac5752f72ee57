import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from './trace-context';

describe('traceparent', () => {
  it('round-trips a version-00 header', () => {
    const t = { traceId: newTraceId(), spanId: newSpanId(), flags: '01' };
    expect(parseTraceparent(formatTraceparent(t))).toEqual(t);
    expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(t.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('draws ids that do not repeat, across many refills of its random pool', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      ids.add(newTraceId());
      ids.add(newSpanId());
    }
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(/^(?:[0-9a-f]{16}|[0-9a-f]{32})$/);
    expect([...ids].some((id) => /^0+$/.test(id))).toBe(false);
  });

  it.each([
    undefined,
    42,
    '',
    'garbage',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', // no flags
    '00-00000000000000000000000000000000-b7ad6b7169203331-01', // all-zero trace id
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', // all-zero span id
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // version ff is invalid
  ])('treats %p as absent', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts upper case and surrounding space', () => {
    expect(parseTraceparent(' 00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01 ')?.traceId).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
  });
});
