import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  StockRejected,
  StockReleased,
  StockReserved,
} from '@warren/contracts';
import type { IncomingMessage } from '@warren/messaging';
import { MessagingContext } from '@warren/messaging/nest';
import { OrderSagaService } from './order-saga.service';

/** The answers the saga consumes, from the `orders.saga` queue. Each one goes through the inbox. */
@Controller()
export class SagaHandlers {
  constructor(@Inject(OrderSagaService) private readonly saga: OrderSagaService) {}

  @EventPattern(StockReserved.type, { contract: StockReserved })
  stockReserved(@Payload() payload: StockReserved, @Ctx() ctx: MessagingContext) {
    return this.saga.stockReserved(withPayload(ctx, payload));
  }

  @EventPattern(StockRejected.type, { contract: StockRejected })
  stockRejected(@Payload() payload: StockRejected, @Ctx() ctx: MessagingContext) {
    return this.saga.stockRejected(withPayload(ctx, payload));
  }

  @EventPattern(StockReleased.type, { contract: StockReleased })
  stockReleased(@Payload() payload: StockReleased, @Ctx() ctx: MessagingContext) {
    return this.saga.stockReleased(withPayload(ctx, payload));
  }

  @EventPattern(PaymentCaptured.type, { contract: PaymentCaptured })
  paymentCaptured(@Payload() payload: PaymentCaptured, @Ctx() ctx: MessagingContext) {
    return this.saga.paymentCaptured(withPayload(ctx, payload));
  }

  @EventPattern(PaymentDeclined.type, { contract: PaymentDeclined })
  paymentDeclined(@Payload() payload: PaymentDeclined, @Ctx() ctx: MessagingContext) {
    return this.saga.paymentDeclined(withPayload(ctx, payload));
  }

  @EventPattern(PaymentRefunded.type, { contract: PaymentRefunded })
  paymentRefunded(@Payload() payload: PaymentRefunded, @Ctx() ctx: MessagingContext) {
    return this.saga.paymentRefunded(withPayload(ctx, payload));
  }
}

/** The delivered message with the payload as the contract parsed it. */
function withPayload<T>(ctx: MessagingContext, payload: T): IncomingMessage<T> {
  return { ...ctx.getMessage(), payload };
}
