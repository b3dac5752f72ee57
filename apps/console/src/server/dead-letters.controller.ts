import { Controller } from '@nestjs/common';

/** Placeholder: the dead-letters API (issue 13). */
@Controller('api/dead-letters')
export class DeadLettersController {}
