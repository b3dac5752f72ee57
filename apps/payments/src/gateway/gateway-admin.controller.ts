import { Body, Controller, Get, Inject, Put, UseGuards } from '@nestjs/common';
import { AdminGuard, ZodBodyPipe } from '@warren/service-kit';
import { GatewaySettingsUpdate, PaymentGateway, type GatewaySettings } from './payment-gateway';

/** Runtime settings of the simulated gateway (this instance's). Admin only: ADMIN_TOKEN (see README). */
@Controller('admin/gateway')
@UseGuards(AdminGuard)
export class GatewayAdminController {
  constructor(@Inject(PaymentGateway) private readonly gateway: PaymentGateway) {}

  @Get()
  get(): GatewaySettings {
    return this.gateway.settings;
  }

  /** `{ "failureRate": 0..1, "declineRate": 0..1, "latencyMs": n }`, any subset; 400 with every problem otherwise. */
  @Put()
  put(@Body(new ZodBodyPipe(GatewaySettingsUpdate)) change: Partial<GatewaySettings>): GatewaySettings {
    return this.gateway.update(change);
  }
}
