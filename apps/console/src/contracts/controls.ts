import { z } from 'zod';

/*
 * The "Break it" controls (GET /api/controls and the routes under it): the requests the server validates and
 * the answers the web app reads. zod only, so the browser bundle can import it.
 */

const rate = (what: string) =>
  z
    .number({ error: `${what} must be a number from 0 to 1` })
    .min(0, `${what} must be from 0 to 1`)
    .max(1, `${what} must be from 0 to 1`);

/** The payments service's simulated gateway, as its GET /admin/gateway answers (the same limits as its own). */
export const GatewaySettings = z.object({
  /** Share of charges that fail with a transient error (retried with backoff). */
  failureRate: rate('failureRate'),
  /** Share of charges the issuer declines (a business answer, never retried). */
  declineRate: rate('declineRate'),
  latencyMs: z
    .number({ error: 'latencyMs must be a whole number of milliseconds' })
    .int('latencyMs must be a whole number of milliseconds')
    .min(0, 'latencyMs must be from 0 to 60000')
    .max(60_000, 'latencyMs must be from 0 to 60000'),
});
export type GatewaySettings = z.infer<typeof GatewaySettings>;

/** PUT /api/controls/gateway: any of the three; the ones left out keep their value on each instance. */
export const GatewayChange = GatewaySettings.partial()
  .strict()
  .refine((s) => Object.keys(s).length > 0, { message: 'give at least one of failureRate, declineRate, latencyMs' });
export type GatewayChange = z.infer<typeof GatewayChange>;

/** One payments instance's settings, or why it could not be read or changed (the others still were). */
export interface GatewayInstance {
  name: string;
  url: string;
  settings?: GatewaySettings;
  error?: string;
}

/** GET and PUT /api/controls/gateway */
export interface GatewayReply {
  instances: GatewayInstance[];
}

/** POST /api/controls/smtp: refuse the next `count` deliveries with `code` (421, temporary, by default). */
export const SmtpFailure = z.strictObject(
  {
    count: z
      .number({ error: 'count must be a whole number from 1 to 1000' })
      .int('count must be a whole number from 1 to 1000')
      .min(1, 'count must be a whole number from 1 to 1000 (DELETE clears)')
      .max(1000, 'count must be a whole number from 1 to 1000'),
    code: z
      .number({ error: 'code must be an SMTP error code from 400 to 599' })
      .int('code must be an SMTP error code from 400 to 599')
      .min(400, 'code must be an SMTP error code from 400 to 599')
      .max(599, 'code must be an SMTP error code from 400 to 599')
      .optional(),
  },
  { error: 'the body must be a JSON object like { "count": 2, "code": 421 }' },
);
export type SmtpFailure = z.infer<typeof SmtpFailure>;

/** The SMTP capture's plan (POST and DELETE /api/controls/smtp answer it). */
export interface SmtpFailNext {
  remaining: number;
  code: number;
}

export const SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGSTOP', 'SIGCONT'] as const;
export type ProcessSignalName = (typeof SIGNALS)[number];

/** POST /api/controls/processes/:name/signal */
export const ProcessSignal = z.strictObject(
  { signal: z.enum(SIGNALS, { error: `signal must be one of ${SIGNALS.join(', ')}` }) },
  { error: 'the body must be a JSON object like { "signal": "SIGKILL" }' },
);
export type ProcessSignal = z.infer<typeof ProcessSignal>;

const processName = z
  .string()
  .min(1, 'a process name is required')
  .max(64, 'a process name has at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'a process name may hold only letters, digits and . _ -');

/** :name in /api/controls/processes/:name/… and /api/controls/instances/:name */
export const ProcessParams = z.strictObject({ name: processName });
export type ProcessParams = z.infer<typeof ProcessParams>;

/** POST /api/controls/instances: one more instance of a service (the demo's control API says which may). */
export const AddInstance = z.strictObject(
  {
    service: z
      .string({ error: 'service is required, e.g. "payments"' })
      .min(1, 'service is required, e.g. "payments"')
      .max(64, 'service has at most 64 characters')
      .regex(/^[a-z][a-z0-9-]*$/, 'service is a service name, e.g. "payments"'),
  },
  { error: 'the body must be a JSON object like { "service": "payments" }' },
);
export type AddInstance = z.infer<typeof AddInstance>;

/** :name in DELETE /api/controls/connections/:name: the broker's name for the connection (a short string). */
export const ConnectionParams = z.strictObject({
  name: z.string().min(1, 'a connection name is required').max(255, 'a connection name has at most 255 characters'),
});
export type ConnectionParams = z.infer<typeof ConnectionParams>;

/** The text the client gets with connection.close 320 (CONNECTION_FORCED - <this>). */
export const CLOSE_REASON = 'closed from the Warren Console';

/** Why process control is refused outside the local demo (409). */
export const PROCESS_CONTROL_UNAVAILABLE = 'process control is only available in the local demo (npm run demo)';
/** Why the SMTP control is refused against a real Mailpit (409). */
export const SMTP_UNAVAILABLE = 'this SMTP server has no fault injection';

/**
 * A control as GET /api/controls finds it: `available`; `unavailable` where this deployment has no such thing
 * (compose has no process control, a real Mailpit no fault injection), with the reason; `unreachable` when the
 * thing behind it does not answer right now (the control would fail with 502), with the error.
 */
export type ControlState = 'available' | 'unavailable' | 'unreachable';

export interface BrokerConnection {
  /** The broker's name for it (what DELETE takes). */
  name: string;
  /** client_properties.connection_name: the service that opened it, when it says. */
  service?: string;
  user?: string;
  vhost?: string;
}

/** GET /api/controls */
export interface ControlsStatus {
  gateway: { state: ControlState; reason?: string; instances?: GatewayInstance[] };
  smtp: { state: ControlState; reason?: string; failNext?: SmtpFailNext };
  connections: { state: ControlState; reason?: string; connections?: BrokerConnection[] };
  /** `paused`: processes this console stopped with SIGSTOP (the control API does not tell), until SIGCONT. */
  processes: { state: ControlState; reason?: string; paused?: string[] };
}

/** A process as the demo's control API lists it (GET /processes; the live stream's `processes` event). */
export interface DemoProcess {
  name: string;
  pid: number | null;
  state: 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';
  restarts: number;
  startedAt: string | null;
  lastExit: { how: string; at: string } | null;
  removable: boolean;
  url?: string;
}
