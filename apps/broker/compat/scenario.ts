// What a compatibility scenario is: a small program run against each broker target, returning an outcome.

import type { Ctx } from './context';

export type Target = 'bundled' | 'rabbitmq';
export interface Scenario {
  /** Unique within its area. */
  name: string;
  /** Run against one target only (keep these few). */
  only?: Target;
  /** Compare error `text` fields between brokers (otherwise only codes/ids are compared). */
  compareText?: boolean;
  /** Per-scenario timeout (default 15 s). */
  timeoutMs?: number;
  /** The program. Returns the outcome (plain, JSON-like data). */
  run(ctx: Ctx): Promise<unknown>;
  /** Explicit expectations, run on the normalised outcome of every target. */
  check?(outcome: any, target: Target): void;
  /**
   * Set (to the reason) when the two brokers are *meant* to differ: a feature RabbitMQ has only with a plugin
   * that the reference RabbitMQ does not run (e.g. x-delayed-message). Both targets still run; `check` must then
   * assert each target's own expected outcome (RabbitMQ's refusal, the plugin's documented behaviour on the
   * bundled broker), and instead of "bundled matches rabbitmq" the runner asserts that the outcomes do differ.
   */
  differsFromRabbitmq?: string;
}

export interface Area {
  area: string;
  scenarios: Scenario[];
}

export function area(name: string, scenarios: Scenario[]): Area {
  return { area: name, scenarios };
}
