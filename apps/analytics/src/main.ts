import './instrument'; // first: see instrument.ts
import 'reflect-metadata';
import { runService, startService } from '@warren/service-kit';
import { AppModule, ANALYTICS } from './app.module';

runService('analytics', () => startService(AppModule, ANALYTICS));
