// E2E_RUNTIME=containers: the same stack as support/stack.ts, but as docker-compose.yml runs it, with
// testcontainers. The services, the bundled broker and the SMTP capture are the images compose builds
// (warren-<app>:latest from docker/service.Dockerfile; e2e/support/global-setup.mjs builds them once per run);
// RabbitMQ, Redis and Postgres (one database per service, docker/postgres-init.sql) are the registry images, or
// their stand-ins (docs/offline-images.md). The SMTP side is Warren's own capture, as in the local runtime: it
// answers Mailpit's API and also has the fault injection (fail-next) the retry suite needs.
// Every container carries the label org.warren.e2e-run=<run id>, so the global teardown can remove whatever a
// crashed suite left behind (Ryuk, testcontainers' own reaper, may be off: TESTCONTAINERS_RYUK_DISABLED=true).
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RabbitMQContainer } from '@testcontainers/rabbitmq';
import { RedisContainer } from '@testcontainers/redis';
import {
  GenericContainer,
  getContainerRuntimeClient,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ADMIN_TOKEN, ROOT, type ServiceHandle, type ServiceName, type Stack } from './stack';

/** The port every service listens on inside its container (the image's PORT). */
const HTTP_PORT = 3000;
const SMTP_PORT = 1025;
const SMTP_HTTP_PORT = 8025;
const RUN_LABELS = { 'org.warren.e2e-run': process.env.WARREN_E2E_RUN ?? 'manual' };

/** The image compose builds for an app (global-setup.mjs has built it for this run). */
export const appImage = (app: string): string => `warren-${app}:latest`;

/** Fails with one clear message when no container engine answers. */
async function requireEngine(): Promise<void> {
  try {
    await getContainerRuntimeClient();
  } catch (err) {
    throw new Error(
      `E2E_RUNTIME=containers needs a reachable Docker (or Podman) engine, and none answered (${(err as Error).message.split('\n')[0]}). Start one, or run the local runtime (unset E2E_RUNTIME).`,
    );
  }
}

/** The end of a container's output (stdout and stderr), for a failing test's message; never throws. */
function containerLog(id: string, chars: number): string {
  try {
    const out = execFileSync('docker', ['logs', '--tail', '200', id], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
    return out.slice(-chars);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-chars) || `(docker logs failed: ${e.message.split('\n')[0]})`;
  }
}

class ContainerService implements ServiceHandle {
  private started?: StartedTestContainer;
  private lastLog = '';
  url = '';

  constructor(
    readonly name: string,
    private readonly container: GenericContainer,
    private readonly port = HTTP_PORT,
  ) {}

  async start(): Promise<void> {
    this.started = await this.container.start();
    this.url = `http://${this.started.getHost()}:${this.started.getMappedPort(this.port)}`;
  }

  /** SIGTERM: `docker stop` with the compose file's grace period; SIGKILL: killed at once. The container goes. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.started) return;
    this.lastLog = containerLog(this.started.getId(), 6000);
    if (signal === 'SIGKILL') {
      const client = await getContainerRuntimeClient();
      await client.container.getById(this.started.getId()).kill({ signal: 'SIGKILL' });
    }
    await this.started.stop({ timeout: 30_000 });
    this.started = undefined;
  }

  /** The end of its log: live while it runs, as it was when stopped afterwards. */
  tail(chars = 3000): string {
    if (this.started) return containerLog(this.started.getId(), chars);
    return this.lastLog ? this.lastLog.slice(-chars) : `(container ${this.name} never started)`;
  }

  /** A broker's AMQP URL as the test process reaches it (its mapped 5672). */
  amqpUrl(): string {
    if (!this.started) throw new Error(`${this.name} is not running`);
    return `amqp://guest:guest@${this.started.getHost()}:${this.started.getMappedPort(5672)}`;
  }

  /** docker stop (SIGTERM; SIGKILL after the grace period), keeping the container for resume(). */
  async pause(): Promise<void> {
    if (!this.started) throw new Error(`${this.name} is not running`);
    const client = await getContainerRuntimeClient();
    await client.container.getById(this.started.getId()).stop({ t: 30 });
  }

  /**
   * Starts the container pause() stopped, with the data it had. The engine may map its ports to new host ports:
   * the services reach it by its network alias and do not notice, but stack.amqpUrl is not refreshed.
   */
  async resume(): Promise<void> {
    if (!this.started) throw new Error(`${this.name} is not running`);
    const client = await getContainerRuntimeClient();
    await client.container.getById(this.started.getId()).start();
  }
}

/**
 * Starts the stack's services as containers on a network of their own; sets stack.amqpUrl (as the test
 * process reaches the broker) and stack.redisUrl; returns what stops it all.
 */
export async function startContainers(stack: Stack): Promise<() => Promise<void>> {
  await requireEngine();
  const network: StartedNetwork = await new Network().start();
  const stops: Array<() => Promise<unknown>> = [];
  // a stop that fails is said on stderr (the global teardown then removes what it left), never swallowed silently
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err: Error) =>
        process.stderr.write(`e2e: a container did not stop cleanly: ${err.message.split('\n')[0]}\n`),
      );
    await network
      .stop()
      .catch((err: Error) => process.stderr.write(`e2e: the network did not go: ${err.message.split('\n')[0]}\n`));
  };
  /**
   * Waits for every start, even after one failed, so that what did start has registered its stop before
   * stopAll runs (Promise.all would reject while slower starts are still on their way); then rethrows.
   */
  const allStarted = async <T extends readonly unknown[]>(
    starts: T,
  ): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> => {
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
      -readonly [K in keyof T]: Awaited<T[K]>;
    };
  };
  /** Starts a piece and registers its stop as soon as it runs (a failure elsewhere then stops it too). */
  const started = async <T extends { stop(): Promise<unknown> }>(start: Promise<T>): Promise<T> => {
    const it = await start;
    stops.push(() => it.stop());
    return it;
  };
  try {
    // --- the infrastructure, all at once: the broker (a ContainerService, so a suite can stop and start it:
    //     stack.broker), Redis, the SMTP capture and Postgres
    const brokerService =
      stack.amqpUrl === 'container:rabbitmq'
        ? new ContainerService(
            'rabbitmq',
            new RabbitMQContainer('rabbitmq:3-management')
              .withNetwork(network)
              .withNetworkAliases('amqp')
              .withLabels(RUN_LABELS),
            15672,
          )
        : new ContainerService(
            'broker',
            new GenericContainer(appImage('broker'))
              .withNetwork(network)
              .withNetworkAliases('amqp')
              .withEnvironment({ BROKER_LOOPBACK_USERS: 'none', BROKER_MANAGEMENT_PORT: '15672' })
              .withExposedPorts(5672, 15672)
              .withLabels(RUN_LABELS)
              .withWaitStrategy(Wait.forLogMessage(/listening on amqp:/)),
            15672,
          );
    const capture = stack.options.smtp
      ? new ContainerService(
          'smtp-capture',
          new GenericContainer(appImage('smtp-capture'))
            .withNetwork(network)
            .withNetworkAliases('mailpit')
            .withCommand([
              'node',
              '--enable-source-maps',
              'dist/app/main.js',
              '--host',
              '0.0.0.0',
              '--smtp-port',
              String(SMTP_PORT),
              '--http-port',
              String(SMTP_HTTP_PORT),
            ])
            .withExposedPorts(SMTP_PORT, SMTP_HTTP_PORT)
            .withLabels(RUN_LABELS)
            .withWaitStrategy(Wait.forHttp('/api/v1/messages', SMTP_HTTP_PORT)),
          SMTP_HTTP_PORT,
        )
      : undefined;
    const needsDatabase = stack.options.services.some((s) => s !== 'analytics');
    const [, redis, , pg] = await allStarted([
      started(brokerService.start().then(() => brokerService)),
      stack.needsRedis
        ? started(
            new RedisContainer('redis:7-alpine')
              .withNetwork(network)
              .withNetworkAliases('redis')
              .withLabels(RUN_LABELS)
              .start(),
          )
        : undefined,
      capture ? started(capture.start().then(() => capture)) : undefined,
      needsDatabase
        ? started(
            new PostgreSqlContainer('postgres:15-alpine')
              .withNetwork(network)
              .withNetworkAliases('postgres')
              .withCopyFilesToContainer([
                {
                  source: path.join(ROOT, 'docker/postgres-init.sql'),
                  target: '/docker-entrypoint-initdb.d/10-databases.sql',
                },
              ])
              .withLabels(RUN_LABELS)
              .start(),
          )
        : undefined,
    ] as const);
    stack.broker = brokerService;
    stack.amqpUrl = brokerService.amqpUrl();
    const innerAmqp = 'amqp://guest:guest@amqp:5672';
    if (redis) stack.redisUrl = redis.getConnectionUrl();
    const innerRedis = redis ? 'redis://redis:6379' : undefined;
    if (capture) stack.smtp = capture;
    const innerSmtp = capture ? `smtp://mailpit:${SMTP_PORT}` : undefined;

    // --- the services: the consumers of commands all at once, then orders (which sends them)
    const order: ServiceName[] = ['inventory', 'payments', 'notifications', 'analytics', 'orders'];
    for (const name of order.filter((n) => stack.options.services.includes(n))) {
      const count = stack.options.instances[name] ?? 1;
      stack.instances[name] = [];
      for (let i = 0; i < count; i++) {
        // a second instance of a service gets a database of its own (as each local process has its own SQLite
        // file), unless the stack asks for one database per service shared by its instances
        const database = i === 0 || stack.options.database === 'postgres' ? name : `${name}_${i + 1}`;
        if (pg && name !== 'analytics' && i > 0)
          await pg.exec(['psql', '-U', pg.getUsername(), '-d', pg.getDatabase(), '-c', `CREATE DATABASE ${database}`]);
        const env: Record<string, string> = {
          ADMIN_TOKEN,
          ...(Object.fromEntries(
            Object.entries({ ...stack.extraEnv, ...stack.options.serviceEnv[name] }).filter(([, v]) => v !== undefined),
          ) as Record<string, string>),
          PORT: String(HTTP_PORT),
          WARREN_NAMESPACE: stack.namespace,
          AMQP_URL: innerAmqp,
          NO_COLOR: '1',
          ...(innerRedis ? { REDIS_URL: innerRedis } : {}),
          ...(innerSmtp ? { SMTP_URL: innerSmtp } : {}),
          ...(pg && name !== 'analytics'
            ? { DATABASE_URL: `postgres://${pg.getUsername()}:${pg.getPassword()}@postgres:5432/${database}` }
            : {}),
        };
        stack.instances[name].push(
          new ContainerService(
            count > 1 ? `${name}-${i + 1}` : name,
            new GenericContainer(appImage(name))
              .withNetwork(network)
              .withEnvironment(env)
              .withExposedPorts(HTTP_PORT)
              .withLabels(RUN_LABELS)
              .withWaitStrategy(Wait.forHttp('/health', HTTP_PORT).forStatusCode(200)),
          ),
        );
      }
      stack.services[name] = stack.instances[name][0];
    }
    const wave = (names: ServiceName[]) =>
      allStarted(names.flatMap((n) => (stack.instances[n] ?? []).map((svc) => started(svc.start().then(() => svc)))));
    await wave(order.filter((n) => n !== 'orders'));
    await wave(['orders']);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
