import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ZodBodyPipe, ZodParamsPipe } from '@warren/service-kit';
import {
  AddInstance,
  ConnectionParams,
  GatewayChange,
  ProcessParams,
  ProcessSignal,
  SmtpFailure,
  type ControlsStatus,
  type GatewayReply,
  type SmtpFailNext,
} from '../contracts/controls';
import { Controls } from './controls';

/**
 * The "Break it" controls over HTTP (docs: apps/console/README.md). Input is checked here (400 listing every
 * problem); the work, and the 409/502 refusals, are Controls', which the guided scenarios share.
 */
@Controller('api/controls')
export class ControlsController {
  constructor(@Inject(Controls) private readonly controls: Controls) {}

  /** Which controls this deployment offers, each with the reason when it does not, and their current settings. */
  @Get()
  status(): Promise<ControlsStatus> {
    return this.controls.status();
  }

  @Get('gateway')
  gateway(): Promise<GatewayReply> {
    return this.controls.gateway();
  }

  @Put('gateway')
  setGateway(@Body(new ZodBodyPipe(GatewayChange)) change: GatewayChange): Promise<GatewayReply> {
    return this.controls.setGateway(change);
  }

  @Post('smtp')
  @HttpCode(200)
  failSmtp(@Body(new ZodBodyPipe(SmtpFailure)) failure: SmtpFailure): Promise<SmtpFailNext> {
    return this.controls.failSmtp(failure);
  }

  @Delete('smtp')
  clearSmtp(): Promise<SmtpFailNext> {
    return this.controls.clearSmtp();
  }

  @Get('connections')
  connections() {
    return this.controls.connections();
  }

  @Delete('connections/:name')
  closeConnection(@Param(new ZodParamsPipe(ConnectionParams)) { name }: ConnectionParams) {
    return this.controls.closeConnection(name);
  }

  @Post('processes/:name/signal')
  @HttpCode(202)
  signal(
    @Param(new ZodParamsPipe(ProcessParams)) { name }: ProcessParams,
    @Body(new ZodBodyPipe(ProcessSignal)) { signal }: ProcessSignal,
  ) {
    return this.controls.signal(name, signal);
  }

  @Post('processes/:name/restart')
  @HttpCode(200)
  restart(@Param(new ZodParamsPipe(ProcessParams)) { name }: ProcessParams) {
    return this.controls.restart(name);
  }

  @Post('instances')
  addInstance(@Body(new ZodBodyPipe(AddInstance)) { service }: AddInstance) {
    return this.controls.addInstance(service);
  }

  @Delete('instances/:name')
  removeInstance(@Param(new ZodParamsPipe(ProcessParams)) { name }: ProcessParams) {
    return this.controls.removeInstance(name);
  }
}
