import { Controller } from '@nestjs/common';

/** Placeholder: the scenarios API (issue 13). */
@Controller('api/scenarios')
export class ScenariosController {}
