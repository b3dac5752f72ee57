import type { Area } from '../harness';
import connection from './connection.scenarios';
import exchangeTypes from './exchange-types.scenarios';
import topic from './topic.scenarios';
import headersExchange from './headers-exchange.scenarios';
import defaultExchange from './default-exchange.scenarios';
import exchangeDeclare from './exchange-declare.scenarios';
import e2eBindings from './e2e-bindings.scenarios';
import alternateExchange from './alternate-exchange.scenarios';

export const areas: Area[] = [connection, exchangeTypes, topic, headersExchange, defaultExchange, exchangeDeclare, e2eBindings, alternateExchange];
