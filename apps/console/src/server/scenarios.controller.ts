import { Controller, Get, HttpCode, Inject, Param, Post, type OnModuleDestroy } from '@nestjs/common';
import { topologyNames, ZodParamsPipe } from '@warren/service-kit';
import type { z } from 'zod';
import { ScenarioParams, type CurrentScenarioReply, type ScenarioInfo, type ScenarioRun } from '../contracts/scenarios';
import type { ConsoleConfig } from './config';
import { Controls } from './controls';
import { ALL_SCENARIOS } from './scenarios/all-scenarios';
import { ScenarioRunner } from './scenarios/scenario-runner';
import { ScenarioSource } from './scenarios/scenario-source';
import type { Sources } from './sources';
import { CONFIG, SOURCES } from './tokens';

/**
 * The guided scenarios: GET /api/scenarios lists them (with why one cannot run here), POST …/:id/run starts
 * one (202; 404 unknown, 409 while another runs or when it cannot run here), and its narration goes out on the
 * live stream as the `scenario` source (GET /api/scenarios/current gives the same run).
 */
@Controller('api/scenarios')
export class ScenariosController implements OnModuleDestroy {
  private readonly runner: ScenarioRunner;

  constructor(
    @Inject(CONFIG) config: ConsoleConfig,
    @Inject(SOURCES) sources: Sources,
    @Inject(Controls) controls: Controls,
  ) {
    const source = sources.scenario instanceof ScenarioSource ? sources.scenario : new ScenarioSource();
    // the services' exchange and queue names (WARREN_NAMESPACE), as the services read them
    this.runner = new ScenarioRunner(ALL_SCENARIOS, config, topologyNames(), source, controls);
  }

  @Get()
  list(): ScenarioInfo[] {
    return this.runner.list();
  }

  @Get('current')
  current(): CurrentScenarioReply {
    return { run: this.runner.run };
  }

  @Post(':id/run')
  @HttpCode(202)
  start(@Param(new ZodParamsPipe(ScenarioParams)) params: z.output<typeof ScenarioParams>): ScenarioRun {
    return this.runner.start(params.id);
  }

  /** A run in progress puts things back (gateway settings, added instances) before the console stops. */
  async onModuleDestroy(): Promise<void> {
    await this.runner.stop();
  }
}
