import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AdminGuard, adminMiddleware } from '../src';

@Controller()
class AdminController {
  @Get('admin/thing')
  @UseGuards(AdminGuard)
  admin() {
    return { ok: true };
  }
}

@Module({ controllers: [AdminController] })
class AdminModule {}

/** A Nest app with a guarded route, and an Express route behind adminMiddleware, created with ADMIN_TOKEN = `token`. */
async function startApp(token: string | undefined): Promise<{ app: INestApplication; url: string }> {
  const saved = process.env.ADMIN_TOKEN;
  if (token === undefined) delete process.env.ADMIN_TOKEN;
  else process.env.ADMIN_TOKEN = token;
  try {
    const app = await NestFactory.create(AdminModule, { logger: false });
    app
      .getHttpAdapter()
      .getInstance()
      .use('/board', adminMiddleware(), (_req: unknown, res: { end(s: string): void }) => res.end('board'));
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
  } finally {
    if (saved === undefined) delete process.env.ADMIN_TOKEN;
    else process.env.ADMIN_TOKEN = saved;
  }
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe.each([
  ['a Nest route (AdminGuard)', '/admin/thing'],
  ['an Express router (adminMiddleware)', '/board'],
])('admin auth on %s', (_what, path) => {
  const started: INestApplication[] = [];
  afterAll(() => Promise.all(started.map((a) => a.close())));
  const start = async (token: string | undefined) => {
    const s = await startApp(token);
    started.push(s.app);
    return `${s.url}${path}`;
  };

  it('is off with 403 and says how to turn it on when ADMIN_TOKEN is unset or empty', async () => {
    for (const token of [undefined, '']) {
      const res = await fetch(await start(token), { headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'admin routes are off: set ADMIN_TOKEN to turn them on',
      });
    }
  });

  it('answers 401 with a Basic challenge without the token or with a wrong one', async () => {
    const url = await start('s3cret-token');
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Basic realm="warren admin"');
    expect(await missing.json()).toMatchObject({
      statusCode: 401,
      message: expect.stringContaining('Authorization: Bearer'),
    });
    for (const wrong of [
      'Bearer s3cret-toke',
      'Bearer s3cret-token-and-more',
      basic('admin', 'nope'),
      'Basic not-base64-at-all',
      'Token s3cret-token',
      's3cret-token',
    ]) {
      const res = await fetch(url, { headers: { authorization: wrong } });
      expect([wrong, res.status, res.headers.get('www-authenticate')]).toEqual([
        wrong,
        401,
        'Basic realm="warren admin"',
      ]);
    }
    expect(await (await fetch(url, { headers: { authorization: 'Bearer nope' } })).json()).toMatchObject({
      message: 'the admin token is wrong',
    });
  });

  it('lets the token in as Bearer (any case) or as the Basic password (any user name)', async () => {
    const url = await start('s3cret-token');
    for (const authorization of [
      'Bearer s3cret-token',
      'bearer s3cret-token',
      basic('admin', 's3cret-token'),
      basic('', 's3cret-token'),
    ]) {
      expect([authorization, (await fetch(url, { headers: { authorization } })).status]).toEqual([authorization, 200]);
    }
  });
});
