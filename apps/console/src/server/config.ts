import { join } from 'node:path';
import { parseBrokerUrls } from '@warren/messaging';
import type { TraceSettings } from './traces/trace-receiver';

/** Where the console finds what it shows: every source is a public interface of another part of the platform. */
export interface ConsoleConfig {
  port: number;
  host: string;
  /** How often each source is polled (while at least one browser is connected). */
  pollMs: number;
  managementUrl: string;
  /**
   * The broker over AMQP, for what the management API cannot do: the dead-letter views use the library's
   * DeadLetterQueue. One URL, or a cluster's nodes separated by commas, tried in turn.
   */
  amqpUrl: string;
  ordersUrl: string;
  paymentsUrl: string;
  inventoryUrl: string;
  notificationsUrl: string;
  analyticsUrl: string;
  mailUrl: string;
  /** The demo's control API; unset under compose, where the process controls are shown as unavailable. */
  controlUrl?: string;
  adminToken?: string;
  /** The built web app (vite build), served at /. */
  webDir: string;
  /** The OTLP receiver (POST /v1/traces): its bounds, and where it passes what it accepts on. */
  traces: TraceSettings;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`${name} must be an http(s) URL, got '${value}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`${name} must be an http(s) URL, got '${value}'`);
  return value.replace(/\/+$/, '');
}

/** AMQP_URL: one amqp(s) URL, or a cluster's nodes separated by commas (the messaging library's parser). */
function amqp(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] || fallback;
  try {
    return parseBrokerUrls(value).join(',');
  } catch (err) {
    throw new Error(`${name} must be an amqp(s) URL or several separated by commas: ${(err as Error).message}`);
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new Error(`${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
  return n;
}

/** The console's settings from the environment (docs/architecture.md: Ports and environment); throws naming a bad one. */
export function readConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const local = (variable: string, port: number) =>
    url(env, variable, `http://127.0.0.1:${env[variable.replace(/_URL$/, '_PORT')] || port}`);
  return {
    // PORT as every Warren image sets it (3000), when CONSOLE_PORT is not set
    port: integer(env, env.CONSOLE_PORT ? 'CONSOLE_PORT' : 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    pollMs: integer(env, 'CONSOLE_POLL_MS', 1000, 100, 60_000),
    managementUrl: url(env, 'AMQP_MANAGEMENT_URL', `http://guest:guest@127.0.0.1:${env.MANAGEMENT_PORT || 15672}`),
    amqpUrl: amqp(env, 'AMQP_URL', `amqp://guest:guest@127.0.0.1:${env.BROKER_PORT || 5672}`),
    ordersUrl: local('ORDERS_URL', 3001),
    paymentsUrl: local('PAYMENTS_URL', 3002),
    inventoryUrl: local('INVENTORY_URL', 3003),
    notificationsUrl: local('NOTIFICATIONS_URL', 3004),
    analyticsUrl: local('ANALYTICS_URL', 3005),
    mailUrl: url(env, 'MAIL_URL', `http://127.0.0.1:${env.SMTP_HTTP_PORT || 8025}`),
    controlUrl: env.DEMO_CONTROL_URL ? url(env, 'DEMO_CONTROL_URL', '') : undefined,
    adminToken: env.ADMIN_TOKEN || undefined,
    // next to the server's bundle (dist/apps/console/main.js -> dist/apps/console/web)
    webDir: env.CONSOLE_WEB_DIR || join(__dirname, 'web'),
    traces: {
      maxTraces: integer(env, 'CONSOLE_TRACES_MAX', 1000, 1, 100_000),
      maxSpans: integer(env, 'CONSOLE_SPANS_MAX', 50_000, 1, 1_000_000),
      maxBodyBytes: integer(env, 'CONSOLE_OTLP_MAX_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
      forwardUrl: env.CONSOLE_OTLP_FORWARD_URL ? url(env, 'CONSOLE_OTLP_FORWARD_URL', '') : undefined,
    },
  };
}
