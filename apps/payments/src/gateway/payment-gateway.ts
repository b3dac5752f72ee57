import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';

export const GatewaySettings = z.object({
  /** Share of charges that fail with a transient error (a timeout): the command is retried with backoff. */
  failureRate: z.number().min(0).max(1),
  /** Share of charges the card issuer declines: a business answer, never retried. */
  declineRate: z.number().min(0).max(1),
  /** How long each charge takes. */
  latencyMs: z.number().int().min(0).max(60_000),
});
export type GatewaySettings = z.infer<typeof GatewaySettings>;

/** `PUT /admin/gateway`: any of the settings; the ones left out keep their value. */
export const GatewaySettingsUpdate = GatewaySettings.partial()
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'give at least one of failureRate, declineRate, latencyMs' });

export type ChargeResult = { approved: true } | { approved: false; reason: string };

/** The gateway could not be reached or timed out: nothing was charged, and trying again may work. */
export class GatewayUnavailableError extends Error {
  override readonly name = 'GatewayUnavailableError';
}

/**
 * A simulated card gateway, tuned at runtime (per instance): transient failures, declines and latency. The
 * draws use `random` (Math.random), so rates of 0 and 1 are deterministic. Provided with a factory (its
 * constructor takes values, not injectables).
 */
export class PaymentGateway {
  private current: GatewaySettings;

  constructor(
    initial: GatewaySettings = settingsFromEnv(),
    private readonly random: () => number = Math.random,
  ) {
    this.current = initial;
  }

  get settings(): GatewaySettings {
    return { ...this.current };
  }

  update(change: Partial<GatewaySettings>): GatewaySettings {
    this.current = GatewaySettings.parse({ ...this.current, ...change });
    return this.settings;
  }

  /** Charges `amount` cents; throws GatewayUnavailableError on a (simulated) transient failure. */
  async charge(amount: number): Promise<ChargeResult> {
    const { failureRate, declineRate, latencyMs } = this.current;
    if (latencyMs > 0) await delay(latencyMs);
    if (this.random() < failureRate)
      throw new GatewayUnavailableError('the payment gateway timed out (simulated transient failure)');
    if (this.random() < declineRate)
      return { approved: false, reason: `card declined for ${amount} cents (simulated)` };
    return { approved: true };
  }
}

/** Start-up settings: PAYMENTS_FAILURE_RATE, PAYMENTS_DECLINE_RATE, PAYMENTS_LATENCY_MS (default 0, 0, 0). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const read = (name: string) => (env[name] === undefined || env[name] === '' ? 0 : Number(env[name]));
  const raw = {
    failureRate: read('PAYMENTS_FAILURE_RATE'),
    declineRate: read('PAYMENTS_DECLINE_RATE'),
    latencyMs: read('PAYMENTS_LATENCY_MS'),
  };
  const parsed = GatewaySettings.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `invalid gateway settings from the environment (PAYMENTS_FAILURE_RATE, PAYMENTS_DECLINE_RATE, PAYMENTS_LATENCY_MS): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
