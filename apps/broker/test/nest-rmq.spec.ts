// NestJS's own RMQ transport (ServerRMQ / ClientRMQ on amqp-connection-manager), unmodified, against the
// bundled broker and, when RABBITMQ_URL is set, RabbitMQ: request/reply, events, and the same outcomes.
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxy,
  ClientProxyFactory,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RmqContext,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { startBroker, type RunningBroker } from '../src/testing';

const received: Array<{ pattern: string; data: unknown; redelivered: boolean }> = [];
let eventSeen: (() => void) | undefined;

@Controller()
class MathController {
  @MessagePattern('sum')
  sum(@Payload() numbers: number[]): number {
    return numbers.reduce((a, b) => a + b, 0);
  }

  @MessagePattern('fail')
  fail(): never {
    throw new Error('nope');
  }

  @EventPattern('noted')
  noted(@Payload() data: unknown, @Ctx() ctx: RmqContext): void {
    received.push({ pattern: ctx.getPattern(), data, redelivered: ctx.getMessage().fields.redelivered });
    eventSeen?.();
  }
}

@Module({ controllers: [MathController] })
class MathModule {}

async function outcome(url: string) {
  const queue = `test.nest-rmq.${randomBytes(4).toString('hex')}`;
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(MathModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue, queueOptions: { durable: false, autoDelete: true } },
    logger: false,
  });
  await app.listen();
  const client: ClientProxy = ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: { urls: [url], queue, queueOptions: { durable: false, autoDelete: true } },
  });
  await client.connect();
  try {
    const sum = await firstValueFrom(client.send<number>('sum', [1, 2, 3, 4]));
    const failure = await firstValueFrom(client.send('fail', {})).catch((e: unknown) => e);
    received.length = 0;
    const seen = new Promise<void>((r) => (eventSeen = r));
    await firstValueFrom(client.emit('noted', { id: 7 }), { defaultValue: undefined });
    await seen;
    return { sum, failure, events: [...received] };
  } finally {
    await client.close();
    await app.close();
  }
}

describe('NestJS RMQ transport, unmodified', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  it('does request/reply and events against the bundled broker', async () => {
    const got = await outcome(broker.url);
    expect(got.sum).toBe(10);
    expect(got.failure).toMatchObject({ status: 'error', message: 'Internal server error' });
    expect(got.events).toEqual([{ pattern: 'noted', data: { id: 7 }, redelivered: false }]);
  });

  (process.env.RABBITMQ_URL ? it : it.skip)('sees the same outcome as against RabbitMQ', async () => {
    const [ours, theirs] = [await outcome(broker.url), await outcome(process.env.RABBITMQ_URL as string)];
    expect(ours).toEqual(theirs);
  });
});
