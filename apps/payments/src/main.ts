import './instrument'; // first: see instrument.ts
import 'reflect-metadata';
import { runService, startService } from '@warren/service-kit';
import { AppModule, PAYMENTS } from './app.module';

runService('payments', () => startService(AppModule, PAYMENTS));
