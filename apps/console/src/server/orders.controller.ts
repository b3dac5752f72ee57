import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ZodBodyPipe, ZodParamsPipe } from '@warren/service-kit';
import type { z } from 'zod';
import { OrderIdParams, PlaceOrderRequest, type Order } from '../contracts/orders';
import type { ConsoleConfig } from './config';
import { CONFIG } from './tokens';
import { sendJson, UpstreamError } from './upstream';

/**
 * The console's orders API: placing an order and reading one order with its saga history, both through the
 * orders service's public HTTP API. Input is checked here first (the orders service's own rules), so a bad
 * request is a 400 listing every problem without a call upstream; the list itself reaches the browser live
 * (the `orders` source).
 */
@Controller('api/orders')
export class OrdersController {
  constructor(@Inject(CONFIG) private readonly config: ConsoleConfig) {}

  @Post()
  @HttpCode(201)
  place(@Body(new ZodBodyPipe(PlaceOrderRequest)) body: z.output<typeof PlaceOrderRequest>): Promise<Order> {
    return this.call('POST', '/orders', body);
  }

  @Get(':id')
  get(@Param(new ZodParamsPipe(OrderIdParams)) { id }: z.output<typeof OrderIdParams>): Promise<Order> {
    return this.call('GET', `/orders/${id}`);
  }

  /** An unreachable or failing orders service is a 502 that says so (its 4xx, such as a 404, passes through). */
  private async call(method: string, path: string, body?: unknown): Promise<Order> {
    try {
      return await sendJson<Order>(method, `${this.config.ordersUrl}${path}`, { body });
    } catch (err) {
      if (err instanceof UpstreamError)
        throw new UpstreamError(err.upstreamStatus, `the orders service: ${err.message}`);
      throw err;
    }
  }
}
