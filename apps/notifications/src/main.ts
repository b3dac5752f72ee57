import './instrument'; // first: see instrument.ts
import 'reflect-metadata';
import { runService, startService } from '@warren/service-kit';
import { AppModule, NOTIFICATIONS } from './app.module';

runService('notifications', () => startService(AppModule, NOTIFICATIONS));
