import './instrument'; // first: see instrument.ts
import 'reflect-metadata';
import { runService, startService } from '@warren/service-kit';
import { AppModule, INVENTORY } from './app.module';

runService('inventory', () => startService(AppModule, INVENTORY));
