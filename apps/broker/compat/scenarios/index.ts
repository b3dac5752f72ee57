import type { Area } from '../harness';
import connection from './connection.scenarios';

export const areas: Area[] = [connection];
