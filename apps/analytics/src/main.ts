import 'reflect-metadata';
import { startService } from '@warren/service-kit';
import { AppModule, ANALYTICS } from './app.module';

void startService(AppModule, ANALYTICS).then(
  (s) => console.log(`analytics listening on ${s.url}`),
  (err: Error) => {
    console.error(`analytics failed to start: ${err.message}`);
    process.exit(1);
  },
);
