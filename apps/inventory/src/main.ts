import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startService } from '@warren/service-kit';
import { AppModule, INVENTORY } from './app.module';

startService(AppModule, INVENTORY).then(
  (s) => new Logger('inventory').log(`inventory listening on ${s.url}`),
  (err: unknown) => {
    console.error('inventory failed to start:', err);
    process.exit(1);
  },
);
