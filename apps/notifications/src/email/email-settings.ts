/** Email settings from the environment (docs/architecture.md: Ports and environment, SMTP_URL); read when the app starts. */
export interface EmailSettings {
  smtpUrl: string;
  from: string;
  /** Emails per second at most, as a provider would impose. */
  ratePerSecond: number;
  /** Attempts per email before the job is kept as failed. */
  attempts: number;
  /** First retry delay; doubles each attempt. */
  backoffMs: number;
  digestTo: string;
  /** Cron pattern of the daily digest. */
  digestCron: string;
}

export function readEmailSettings(env: NodeJS.ProcessEnv = process.env): EmailSettings {
  const num = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got '${raw}'`);
    return n;
  };
  return {
    smtpUrl: env.SMTP_URL ?? `smtp://localhost:${env.SMTP_PORT ?? 1025}`,
    from: env.EMAIL_FROM ?? 'Warren Shop <shop@warren.local>',
    ratePerSecond: num('EMAIL_RATE_PER_SECOND', 5, 0.1),
    attempts: num('EMAIL_ATTEMPTS', 5, 1),
    backoffMs: num('EMAIL_BACKOFF_MS', 1000, 1),
    digestTo: env.DIGEST_TO ?? 'ops@warren.local',
    digestCron: env.DIGEST_CRON ?? '0 8 * * *',
  };
}
