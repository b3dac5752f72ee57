import { Controller } from '@nestjs/common';

/** Placeholder: the orders API (issue 13). */
@Controller('api/orders')
export class OrdersController {}
