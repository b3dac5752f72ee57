/** A scenario found something other than what it set out to prove; its message is the verdict line. */
export class ScenarioFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
  }
}
