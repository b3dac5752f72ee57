import { ConflictException, HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import {
  CLOSE_REASON,
  PROCESS_CONTROL_UNAVAILABLE,
  SMTP_UNAVAILABLE,
  type BrokerConnection,
  type ControlsStatus,
  type DemoProcess,
  type GatewayChange,
  type GatewayInstance,
  type GatewayReply,
  type GatewaySettings,
  type ProcessSignalName,
  type SmtpFailNext,
  type SmtpFailure,
} from '../contracts/controls';
import type { ConsoleConfig } from './config';
import { CONFIG } from './tokens';
import { sendJson, UpstreamError, type SendOptions } from './upstream';

/** GET /api/controls answers within this even when something behind a control hangs (a SIGSTOPped payments). */
const PROBE_MS = 3000;
/** A restart answers once the process is back (the control API waits for it; the broker may take a while). */
const SLOW_MS = 90_000;
const PAYMENTS_INSTANCE = /^payments(-\d+)?$/;

const ManagementConnections = z.array(
  z.object({
    name: z.string(),
    user: z.string().optional(),
    vhost: z.string().optional(),
    client_properties: z.object({ connection_name: z.unknown() }).partial().optional(),
  }),
);

/**
 * Calls `what` (named in every error, so a 502 says which part of the platform did not answer). A refused
 * credential is the console's own misconfiguration, not the browser's: 502, not the upstream's 401/403.
 */
async function call<T>(what: string, method: string, url: string, options?: SendOptions): Promise<T> {
  try {
    return await sendJson<T>(method, url, options);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    const status = err.upstreamStatus === 401 || err.upstreamStatus === 403 ? undefined : err.upstreamStatus;
    throw new UpstreamError(status, `${what}: ${err.message}`);
  }
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The "Break it" operations, used by the controls API and by the guided scenarios alike. Each reaches a public
 * interface only: the payments service's admin route, the SMTP capture's fault injection, the broker's
 * management API, the demo's control API. Refusals are HttpExceptions the API answers as they are: 409 where
 * this deployment has no such control, 502 naming what did not answer, the upstream's 4xx for its bad input.
 */
@Injectable()
export class Controls {
  /** Processes this console SIGSTOPped, by name, with the pid it stopped (a new pid means it was restarted since). */
  private readonly paused = new Map<string, number | null>();

  constructor(@Inject(CONFIG) private readonly config: ConsoleConfig) {}

  /** Every control's availability, each probed once, in parallel, within PROBE_MS. */
  async status(): Promise<ControlsStatus> {
    const [processes, smtp, connections] = await Promise.all([
      this.probeProcesses(),
      this.probeSmtp(),
      this.probeConnections(),
    ]);
    const gateway = await this.probeGateway(processes.list);
    return { gateway, smtp, connections, processes: processes.status };
  }

  // --- the payments gateway ---------------------------------------------------------------------------------

  /** Each payments instance's gateway settings. */
  gateway(): Promise<GatewayReply> {
    return this.eachPayments((url) => this.paymentsCall<GatewaySettings>('GET', url));
  }

  /** Applies `change` to every payments instance; 502 only when none took it. */
  setGateway(change: GatewayChange): Promise<GatewayReply> {
    return this.eachPayments((url) => this.paymentsCall<GatewaySettings>('PUT', url, change));
  }

  private async paymentsCall<T>(method: string, url: string, body?: unknown, timeoutMs = 5000): Promise<T> {
    if (!this.config.adminToken)
      throw new ConflictException(
        "the payments gateway's settings are an admin route, and the console has no ADMIN_TOKEN",
      );
    return call<T>('payments', method, `${url}/admin/gateway`, {
      body,
      headers: { authorization: `Bearer ${this.config.adminToken}` },
      timeoutMs,
    });
  }

  private async eachPayments(
    apply: (url: string) => Promise<GatewaySettings>,
    list?: DemoProcess[],
  ): Promise<GatewayReply> {
    const targets = await this.paymentsInstances(list);
    const errors: unknown[] = [];
    const instances = await Promise.all(
      targets.map(async ({ name, url, skip }): Promise<GatewayInstance> => {
        if (skip) return { name, url, error: skip };
        try {
          return { name, url, settings: await apply(url) };
        } catch (err) {
          if (err instanceof ConflictException) throw err;
          errors.push(err);
          return { name, url, error: reasonOf(err) };
        }
      }),
    );
    if (!instances.some((i) => i.settings)) {
      if (errors[0]) throw errors[0];
      throw new UpstreamError(
        undefined,
        `payments: no instance can take it (${instances.map((i) => `${i.name}: ${i.error}`).join('; ')})`,
      );
    }
    return { instances };
  }

  /**
   * The payments instances: the demo's control API lists the added ones too (payments-2 …); without it (compose)
   * or when it does not answer, the one PAYMENTS_URL names. One that is paused or down is named with the reason
   * instead of being called (a SIGSTOPped one would only time out).
   */
  private async paymentsInstances(list?: DemoProcess[]): Promise<Array<{ name: string; url: string; skip?: string }>> {
    let processes = list;
    if (!processes && this.config.controlUrl && this.config.adminToken)
      processes = await this.processes(PROBE_MS).catch(() => undefined);
    const found = (processes ?? []).filter((p) => PAYMENTS_INSTANCE.test(p.name) && p.url);
    if (!found.length) return [{ name: 'payments', url: this.config.paymentsUrl }];
    return found.map((p) => ({
      name: p.name,
      url: p.url!,
      skip: this.isPaused(p)
        ? 'paused (SIGSTOP): continue it first'
        : p.state === 'stopped' || p.state === 'failed'
          ? `the process is ${p.state}`
          : undefined,
    }));
  }

  private async probeGateway(list: DemoProcess[] | undefined): Promise<ControlsStatus['gateway']> {
    if (!this.config.adminToken)
      return {
        state: 'unavailable',
        reason: "the payments gateway's settings are an admin route, and the console has no ADMIN_TOKEN",
      };
    try {
      const { instances } = await this.eachPayments(
        (url) => this.paymentsCall<GatewaySettings>('GET', url, undefined, PROBE_MS),
        list,
      );
      return { state: 'available', instances };
    } catch (err) {
      return { state: 'unreachable', reason: reasonOf(err) };
    }
  }

  // --- SMTP outage --------------------------------------------------------------------------------------------

  /** Refuses the next `count` deliveries at the SMTP capture. */
  failSmtp(failure: SmtpFailure): Promise<SmtpFailNext> {
    return this.smtpCall('POST', failure);
  }

  clearSmtp(): Promise<SmtpFailNext> {
    return this.smtpCall('DELETE');
  }

  private async smtpCall(method: string, body?: unknown, timeoutMs = 5000): Promise<SmtpFailNext> {
    try {
      return await call<SmtpFailNext>(
        'the SMTP capture (MAIL_URL)',
        method,
        `${this.config.mailUrl}/api/warren/fail-next`,
        { body, timeoutMs },
      );
    } catch (err) {
      // a real Mailpit has no such route: the control does not exist there, which is not a failure
      if (err instanceof UpstreamError && err.upstreamStatus === 404)
        throw new ConflictException(
          `${SMTP_UNAVAILABLE} (${this.config.mailUrl} answers 404 to /api/warren/fail-next, as Mailpit does)`,
        );
      throw err;
    }
  }

  private async probeSmtp(): Promise<ControlsStatus['smtp']> {
    try {
      return { state: 'available', failNext: await this.smtpCall('GET', undefined, PROBE_MS) };
    } catch (err) {
      return err instanceof ConflictException
        ? { state: 'unavailable', reason: reasonOf(err) }
        : { state: 'unreachable', reason: reasonOf(err) };
    }
  }

  // --- broker connections -------------------------------------------------------------------------------------

  /** The broker's client connections, each with the service that opened it (its connection_name). */
  async connections(timeoutMs = 5000): Promise<BrokerConnection[]> {
    const raw = await call<unknown>(
      'the broker management API',
      'GET',
      `${this.config.managementUrl}/api/connections`,
      { timeoutMs },
    );
    const parsed = ManagementConnections.safeParse(raw);
    if (!parsed.success)
      throw new UpstreamError(
        undefined,
        'the broker management API: GET /api/connections answered with a list the console does not understand',
      );
    return parsed.data.map((c) => {
      const service = c.client_properties?.connection_name;
      return { name: c.name, ...(typeof service === 'string' ? { service } : {}), user: c.user, vhost: c.vhost };
    });
  }

  /**
   * Closes a connection through the management API: the client gets connection.close 320 CONNECTION_FORCED
   * with `reason`, and a Warren service connects again by itself (libs/messaging).
   */
  async closeConnection(name: string, reason = CLOSE_REASON): Promise<{ closed: string; reason: string }> {
    try {
      await call(
        'the broker management API',
        'DELETE',
        `${this.config.managementUrl}/api/connections/${encodeURIComponent(name)}`,
        { headers: { 'x-reason': reason }, timeoutMs: 5000 },
      );
    } catch (err) {
      if (err instanceof UpstreamError && err.upstreamStatus === 404)
        throw new NotFoundException(`the broker has no connection named ${JSON.stringify(name)} (closed already?)`);
      throw err;
    }
    return { closed: name, reason };
  }

  private async probeConnections(): Promise<ControlsStatus['connections']> {
    try {
      return { state: 'available', connections: await this.connections(PROBE_MS) };
    } catch (err) {
      return { state: 'unreachable', reason: reasonOf(err) };
    }
  }

  // --- the demo's processes -----------------------------------------------------------------------------------

  /** The demo's supervised processes (409 outside the local demo). */
  processes(timeoutMs = 5000): Promise<DemoProcess[]> {
    return this.control<DemoProcess[]>('GET', '/processes', undefined, timeoutMs);
  }

  /** kill -9, SIGTERM, SIGSTOP or SIGCONT; a killed process is started again by the demo's supervisor. */
  async signal(name: string, signal: ProcessSignalName): Promise<{ name: string; signal: ProcessSignalName }> {
    const path = `/processes/${encodeURIComponent(name)}/signal`;
    // a stopped process would not act on SIGTERM until continued (the supervisor does the same when it stops one)
    if (signal === 'SIGTERM' && this.paused.has(name)) await this.control('POST', path, { signal: 'SIGCONT' });
    const answer = await this.control<{ name: string; signal: ProcessSignalName }>('POST', path, { signal });
    if (signal === 'SIGSTOP')
      this.paused.set(name, (await this.processes().catch(() => [])).find((p) => p.name === name)?.pid ?? null);
    else this.paused.delete(name);
    return answer;
  }

  /** Stops it and starts it again; answers once it is back (the broker keeps its data). */
  async restart(name: string): Promise<DemoProcess> {
    const answer = await this.control<DemoProcess>(
      'POST',
      `/processes/${encodeURIComponent(name)}/restart`,
      undefined,
      SLOW_MS,
    );
    this.paused.delete(name);
    return answer;
  }

  /** One more instance of a service (competing consumers); answers once it is healthy. */
  addInstance(service: string): Promise<{ name: string; url: string }> {
    return this.control('POST', '/instances', { service }, SLOW_MS);
  }

  /** Stops an instance addInstance started (409 for the demo's own processes). */
  async removeInstance(name: string): Promise<{ removed: string }> {
    const answer = await this.control<{ removed: string }>(
      'DELETE',
      `/instances/${encodeURIComponent(name)}`,
      undefined,
      SLOW_MS,
    );
    this.paused.delete(name);
    return answer;
  }

  private async control<T>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    if (!this.config.controlUrl) throw new ConflictException(PROCESS_CONTROL_UNAVAILABLE);
    if (!this.config.adminToken)
      throw new ConflictException("process control needs the demo's admin token, and the console has no ADMIN_TOKEN");
    return call<T>("the demo's control API", method, `${this.config.controlUrl}${path}`, {
      body,
      headers: { authorization: `Bearer ${this.config.adminToken}` },
      timeoutMs,
    });
  }

  private isPaused(p: DemoProcess): boolean {
    return this.paused.has(p.name) && (this.paused.get(p.name) === null || this.paused.get(p.name) === p.pid);
  }

  private async probeProcesses(): Promise<{ status: ControlsStatus['processes']; list?: DemoProcess[] }> {
    try {
      const list = await this.processes(PROBE_MS);
      return { status: { state: 'available', paused: list.filter((p) => this.isPaused(p)).map((p) => p.name) }, list };
    } catch (err) {
      if (err instanceof ConflictException) return { status: { state: 'unavailable', reason: reasonOf(err) } };
      return { status: { state: 'unreachable', reason: err instanceof HttpException ? err.message : reasonOf(err) } };
    }
  }
}
