import { Controller, Get, Module, Param, Query, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { z } from 'zod';
import { wholeNumber, ZodParamsPipe, ZodQueryPipe } from '../src';

const ListQuery = z.strictObject({ orderId: z.string().uuid().optional(), limit: wholeNumber(1, 100).default(10) });
const ItemParams = z.strictObject({ id: z.string().regex(/^[a-z]+$/, 'must be lower-case letters') });

@Controller()
class TestController {
  @Get('items')
  list(@Query(new ZodQueryPipe(ListQuery)) q: z.output<typeof ListQuery>) {
    return q;
  }

  @Get('items/:id')
  one(@Param(new ZodParamsPipe(ItemParams)) p: z.output<typeof ItemParams>) {
    return p;
  }
}

@Module({ controllers: [TestController] })
class TestModule {}

describe('ZodQueryPipe and ZodParamsPipe', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('passes a good query through, parsed, with its defaults', async () => {
    expect(await get('/items?orderId=7d444840-9dc0-11d1-b245-5ffdce74fad2')).toEqual({
      status: 200,
      body: { orderId: '7d444840-9dc0-11d1-b245-5ffdce74fad2', limit: 10 },
    });
  });

  it('answers 400 for a repeated parameter, naming it and why', async () => {
    expect(await get('/items?orderId=1&orderId=2')).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'invalid query',
        issues: [{ path: 'orderId', message: 'given 2 times; give it once' }],
      },
    });
  });

  it.each([
    ['a number with an exponent', '/items?limit=1e1', 'limit'],
    ['a number out of range', '/items?limit=101', 'limit'],
    ['an empty number', '/items?limit=', 'limit'],
    ['a malformed id', '/items?orderId=abc', 'orderId'],
    ['an unknown parameter', '/items?orderID=7d444840-9dc0-11d1-b245-5ffdce74fad2', '(query)'],
  ])('answers 400 for %s', async (_what, path, issuePath) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      message: 'invalid query',
      issues: [expect.objectContaining({ path: issuePath })],
    });
  });

  it('validates path parameters the same way', async () => {
    expect(await get('/items/abc')).toEqual({ status: 200, body: { id: 'abc' } });
    expect(await get('/items/a%0Ab')).toEqual({
      status: 400,
      body: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'invalid path parameters',
        issues: [{ path: 'id', message: 'must be lower-case letters' }],
      },
    });
  });
});
