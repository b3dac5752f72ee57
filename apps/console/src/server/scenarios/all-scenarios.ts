import { brokerRestartScenario } from './broker-restart.scenario';
import { clickstreamScenario } from './clickstream.scenario';
import { competingConsumersScenario } from './competing-consumers.scenario';
import { consumerKilledScenario } from './consumer-killed.scenario';
import { poisonMessageScenario } from './poison-message.scenario';
import { pubSubScenario } from './pub-sub.scenario';
import { rateLimitScenario } from './rate-limit.scenario';
import { retryScenario } from './retry.scenario';
import { routingScenario } from './routing.scenario';
import { rpcScenario } from './rpc.scenario';
import { sagaScenario } from './saga.scenario';
import type { Scenario } from './scenario';

/** Every scenario, in the order of the README's pattern table. */
export const ALL_SCENARIOS: Scenario[] = [
  sagaScenario,
  competingConsumersScenario,
  pubSubScenario,
  routingScenario,
  rpcScenario,
  retryScenario,
  poisonMessageScenario,
  consumerKilledScenario,
  brokerRestartScenario,
  rateLimitScenario,
  clickstreamScenario,
];
