import { Module } from '@nestjs/common';
import { ServiceModule } from '@warren/service-kit';
import { AddPaymentCapturedBy1767400000000 } from './database/add-payment-captured-by.migration';
import { CreatePaymentsTables1767312200000 } from './database/create-payments-tables.migration';
import { GatewayAdminController } from './gateway/gateway-admin.controller';
import { PaymentGateway } from './gateway/payment-gateway';
import { PaymentCommandsController } from './payments/payment-commands.controller';
import { Payment, Refund } from './payments/payment.entity';
import { PaymentsController } from './payments/payments.controller';
import { PaymentsService } from './payments/payments.service';

export const PAYMENTS = { name: 'payments', defaultPort: 3002 } as const;

@Module({
  imports: [
    ServiceModule.forRoot({
      ...PAYMENTS,
      entities: [Payment, Refund],
      migrations: [CreatePaymentsTables1767312200000, AddPaymentCapturedBy1767400000000],
      queue: 'payments.commands',
      // transient gateway failures: 0.5 s, 1 s, 2 s, 4 s, 8 s, then the DLQ
      retry: { maxAttempts: 6, initialDelayMs: 500, multiplier: 2, maxDelayMs: 10_000 },
    }),
  ],
  controllers: [PaymentsController, PaymentCommandsController, GatewayAdminController],
  providers: [PaymentsService, { provide: PaymentGateway, useFactory: () => new PaymentGateway() }],
})
export class AppModule {}
