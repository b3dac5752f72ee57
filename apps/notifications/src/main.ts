import 'reflect-metadata';
import { startService } from '@warren/service-kit';
import { AppModule, NOTIFICATIONS } from './app.module';

void startService(AppModule, NOTIFICATIONS).then(
  (s) => console.log(`notifications listening on ${s.url}`),
  (err: Error) => {
    console.error(`notifications failed to start: ${err.message}`);
    process.exit(1);
  },
);
