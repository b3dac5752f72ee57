import { fitShortstr, replyText } from './errors';

describe('reply texts', () => {
  it('prefix the symbolic name of the code', () => {
    expect(replyText(404, "no queue 'q' in vhost '/'")).toBe("NOT_FOUND - no queue 'q' in vhost '/'");
  });

  it('are cut to 255 bytes without splitting a character', () => {
    expect(fitShortstr('short')).toBe('short');
    const long = `RESOURCE_LOCKED - ${'é'.repeat(200)}`;
    const fitted = fitShortstr(long);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(255);
    expect(fitted.endsWith('é')).toBe(true);
    expect(long.startsWith(fitted)).toBe(true);
  });
});
