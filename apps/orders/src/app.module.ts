import { Module } from '@nestjs/common';
import { ServiceModule } from '@warren/service-kit';
import { AddOrderTraceContext1767500000000 } from './database/add-order-trace-context.migration';
import { CreateOrdersTables1767312000000 } from './database/create-orders-tables.migration';
import { OrderStep } from './orders/order-step.entity';
import { Order } from './orders/order.entity';
import { OrdersController } from './orders/orders.controller';
import { OrdersService } from './orders/orders.service';
import { OrderSagaService } from './saga/order-saga.service';
import { SagaConfig } from './saga/saga-config';
import { SagaHandlers } from './saga/saga.handlers';
import { SagaSweeperService } from './saga/saga-sweeper.service';
import { SagaTelemetry } from './saga/saga-telemetry';

export const ORDERS_SERVICE = { name: 'orders', defaultPort: 3001 } as const;

@Module({
  imports: [
    ServiceModule.forRoot({
      ...ORDERS_SERVICE,
      entities: [Order, OrderStep],
      migrations: [CreateOrdersTables1767312000000, AddOrderTraceContext1767500000000],
      queue: 'orders.saga',
      // a transition that lost a race is retried soon; the rest backs off as usual
      retry: { maxAttempts: 8, initialDelayMs: 250, multiplier: 2, maxDelayMs: 30_000 },
    }),
  ],
  controllers: [OrdersController, SagaHandlers],
  providers: [
    { provide: SagaConfig, useFactory: () => SagaConfig.fromEnv() },
    SagaTelemetry,
    OrdersService,
    OrderSagaService,
    SagaSweeperService,
  ],
})
export class AppModule {}
