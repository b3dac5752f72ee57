import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ZodBodyPipe, ZodParamsPipe, ZodQueryPipe } from '@warren/service-kit';
import type { z } from 'zod';
import { ErrorSchema, OrderPageSchema, OrderSchema, PlaceOrderSchema } from './order-view';
import { OrdersService } from './orders.service';
import { ORDER_ID_ATTRIBUTE } from '../saga/saga-telemetry';
import { ListOrdersQuery, OrderParams, PlaceOrderBody } from './place-order.schema';

/** The part of Express' response this controller uses (no @types/express in the workspace). */
interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(@Inject(OrdersService) private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Place an order; the saga reserves stock, captures the payment and confirms or cancels it' })
  @ApiBody({ schema: PlaceOrderSchema })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'the same key with the same body returns the same order (200); with another body, 422',
  })
  @ApiResponse({ status: 201, description: 'placed (status PENDING)', schema: OrderSchema })
  @ApiResponse({ status: 200, description: 'placed before with this Idempotency-Key', schema: OrderSchema })
  @ApiResponse({ status: 400, description: 'invalid body', schema: ErrorSchema })
  @ApiResponse({ status: 422, description: 'Idempotency-Key reused with a different body', schema: ErrorSchema })
  async place(
    @Body(new ZodBodyPipe(PlaceOrderBody)) body: PlaceOrderBody,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: StatusSettable,
  ) {
    if (key !== undefined && (key.trim() === '' || key.length > 255)) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: 'Idempotency-Key must be 1 to 255 characters',
      });
    }
    const placed = await this.orders.place(body, key);
    // the request's span names the order: the trace a POST starts is found by the order id
    trace.getActiveSpan()?.setAttribute(ORDER_ID_ATTRIBUTE, placed.order.id);
    if (!placed.created) res.status(200);
    return placed.order;
  }

  // parameter types spelt z.output<…>: a type that shares its name with the schema would make the test
  // transform's decorator metadata point at the zod object, which the OpenAPI explorer cannot read
  @Get()
  @ApiOperation({ summary: 'Orders, newest first' })
  @ApiQuery({ name: 'status', required: false, enum: ['PENDING', 'CONFIRMED', 'CANCELLED'] })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } })
  @ApiQuery({ name: 'offset', required: false, schema: { type: 'integer', minimum: 0, default: 0 } })
  @ApiResponse({ status: 200, schema: OrderPageSchema })
  @ApiResponse({ status: 400, description: 'invalid query', schema: ErrorSchema })
  list(@Query(new ZodQueryPipe(ListOrdersQuery)) query: z.output<typeof ListOrdersQuery>) {
    return this.orders.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One order with its saga history' })
  @ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })
  @ApiResponse({ status: 200, schema: OrderSchema })
  @ApiResponse({ status: 400, description: 'the id is not a UUID', schema: ErrorSchema })
  @ApiResponse({ status: 404, description: 'no such order', schema: ErrorSchema })
  get(@Param(new ZodParamsPipe(OrderParams)) { id }: z.output<typeof OrderParams>) {
    return this.orders.get(id);
  }
}
