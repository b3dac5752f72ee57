import { Controller } from '@nestjs/common';

/** Placeholder: the controls API (issue 13). */
@Controller('api/controls')
export class ControlsController {}
