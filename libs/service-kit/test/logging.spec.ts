import { logFormat, loggingParams, logLevel } from '../src/logging';

describe('service logging settings', () => {
  it('writes JSON lines unless on a terminal, and pretty text on one (pino-pretty is installed here)', () => {
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('refuses an unknown LOG_FORMAT or LOG_LEVEL with the accepted values', () => {
    expect(() => logFormat({ LOG_FORMAT: 'xml' }, false)).toThrow("LOG_FORMAT must be json or pretty, got 'xml'");
    expect(() => logLevel({ LOG_LEVEL: 'loud' })).toThrow("LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
    expect(logLevel({})).toBe('info');
    expect(logLevel({ LOG_LEVEL: 'debug' })).toBe('debug');
  });

  it('tags every line with the service, uses no transport for JSON, and keeps request headers out', () => {
    const params = loggingParams('orders', { LOG_FORMAT: 'json' });
    const http = params.pinoHttp as { base: unknown; transport?: unknown; serializers: { req: (r: unknown) => unknown } };
    expect(http.base).toEqual({ service: 'orders', pid: process.pid, hostname: expect.any(String) });
    expect(http.transport).toBeUndefined();
    expect(http.serializers.req({ id: 1, method: 'POST', url: '/orders', headers: { authorization: 'Bearer secret' } })).toEqual({ id: 1, method: 'POST', url: '/orders' });
    expect((loggingParams('orders', { LOG_FORMAT: 'pretty' }).pinoHttp as { transport: { target: string } }).transport.target).toBe('pino-pretty');
  });
});
