import type { ScenarioRun } from '../../contracts/scenarios';
import { PushedSource } from '../pushed-source';

/**
 * The live stream's `scenario` source. Unlike the polled sources it is pushed: the runner publishes every
 * narration line as it is said, and each subscriber hears it at once. Its data is null until a first run, then
 * a CurrentScenario.
 */
export class ScenarioSource extends PushedSource {
  constructor() {
    super('scenarios', null);
  }

  /** Sends the run as it is now to every subscriber (a copy, so later steps do not change what was sent). */
  publish(run: ScenarioRun): void {
    this.push(structuredClone(run));
  }
}
