import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startService } from '@warren/service-kit';
import { AppModule, PAYMENTS } from './app.module';

startService(AppModule, PAYMENTS).then(
  (s) => new Logger('payments').log(`payments listening on ${s.url}`),
  (err: unknown) => {
    console.error('payments failed to start:', err);
    process.exit(1);
  },
);
