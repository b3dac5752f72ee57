import { Messaging } from '@warren/messaging';
import { MessagingHarness } from '@warren/messaging/testing';
import { startService, type StartedService } from '@warren/service-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestRedis, type TestRedis } from '../../../tools/testing/redis';
import { uniqueName } from '../../../tools/testing/topology';
import { AppModule, NOTIFICATIONS } from '../src/app.module';
import { EmailJobsService } from '../src/jobs/email-jobs.service';
import { TestSmtp } from './test-smtp';

/** One notifications app in-process: the bundled broker, a Redis and an SMTP server of its own, SQLite. */
export interface NotificationsUnderTest {
  svc: StartedService;
  messaging: Messaging;
  harness: MessagingHarness;
  jobs: EmailJobsService;
  smtp: TestSmtp;
  redis: TestRedis;
  /** Closes the app, the SMTP server and Redis; puts the environment back. */
  stop(): Promise<void>;
}

/** Starts it with the email settings in `env` (EMAIL_ATTEMPTS, EMAIL_BACKOFF_MS …) on top of the suite's own. */
export async function startNotifications(
  label: string,
  env: Record<string, string> = {},
): Promise<NotificationsUnderTest> {
  const saved = { ...process.env };
  const dataDir = mkdtempSync(path.join(tmpdir(), `warren-${label}-`));
  const redis = await startTestRedis();
  const smtp = await new TestSmtp().start();
  Object.assign(process.env, {
    AMQP_URL: process.env.WARREN_TEST_BROKER_URL,
    REDIS_URL: redis.url,
    SMTP_URL: smtp.url,
    WARREN_NAMESPACE: uniqueName(`test.${label}`),
    WARREN_DATA_DIR: dataDir,
    PORT: '0',
    ...env,
  });
  delete process.env.DATABASE_URL;
  const svc = await startService(AppModule, { ...NOTIFICATIONS, logger: false });
  const messaging = svc.app.get(Messaging);
  const jobs = svc.app.get(EmailJobsService);
  return {
    svc,
    messaging,
    harness: new MessagingHarness(messaging),
    jobs,
    smtp,
    redis,
    async stop() {
      await jobs.queue.obliterate({ force: true }).catch(() => undefined);
      await svc.close();
      await smtp.close();
      await redis.stop();
      process.env = saved;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
