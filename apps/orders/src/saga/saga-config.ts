import { topologyNames } from '@warren/service-kit';

/** The saga's knobs and the exchanges it writes to, read from the environment when the app is created. */
export class SagaConfig {
  constructor(
    /** How long each waiting step may wait for its answer (SAGA_STEP_TIMEOUT_MS, default 30 s). */
    readonly stepTimeoutMs: number,
    /** How often the sweeper looks for overdue sagas (SAGA_SWEEP_INTERVAL_MS, default 1 s). */
    readonly sweepIntervalMs: number,
    readonly eventsExchange: string,
    readonly commandsExchange: string,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): SagaConfig {
    const names = topologyNames(env);
    return new SagaConfig(
      positive(env, 'SAGA_STEP_TIMEOUT_MS', 30_000),
      positive(env, 'SAGA_SWEEP_INTERVAL_MS', 1_000),
      names.eventsExchange,
      names.commandsExchange,
    );
  }
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive number of milliseconds, got '${raw}'`);
  return n;
}
