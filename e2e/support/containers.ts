// E2E_RUNTIME=containers: the same stack as support/stack.ts, but as docker-compose.yml runs it, with
// testcontainers. The services (and the bundled broker) are built from docker/service.Dockerfile with the build
// argument APP=<app>; RabbitMQ, Redis, Postgres (one database per service, docker/postgres-init.sql) and Mailpit
// are the upstream images. Loaded only when E2E_RUNTIME=containers; e2e/support/global-setup.mjs stops the run
// with one clear message first when no container engine answers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import { RabbitMQContainer } from '@testcontainers/rabbitmq';
import { RedisContainer } from '@testcontainers/redis';
import { GenericContainer, getContainerRuntimeClient, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { ADMIN_TOKEN, ROOT, type ServiceHandle, type ServiceName, type Stack } from './stack';

const SERVICE_DOCKERFILE = 'docker/service.Dockerfile';
/** The port every service listens on inside its container (build arg and env PORT). */
const HTTP_PORT = 3000;

/** Fails with one clear message when no container engine answers. */
async function requireEngine(): Promise<void> {
  try {
    await getContainerRuntimeClient();
  } catch (err) {
    throw new Error(`E2E_RUNTIME=containers needs a reachable Docker (or Podman) engine, and none answered (${(err as Error).message.split('\n')[0]}). Start one, or run the local runtime (unset E2E_RUNTIME).`);
  }
}

/** The image of one app: docker/service.Dockerfile with APP=<app>, or apps/<app>/Dockerfile. */
async function buildImage(app: string): Promise<GenericContainer> {
  if (existsSync(path.join(ROOT, SERVICE_DOCKERFILE))) {
    return GenericContainer.fromDockerfile(ROOT, SERVICE_DOCKERFILE).withBuildArgs({ APP: app, PORT: String(app === 'broker' ? 5672 : HTTP_PORT) }).withCache(true).build(`warren-e2e-${app}:latest`, { deleteOnExit: false });
  }
  if (existsSync(path.join(ROOT, 'apps', app, 'Dockerfile'))) {
    return GenericContainer.fromDockerfile(ROOT, `apps/${app}/Dockerfile`).withCache(true).build(`warren-e2e-${app}:latest`, { deleteOnExit: false });
  }
  throw new Error(`E2E_RUNTIME=containers: no Dockerfile for ${app} (looked for ${SERVICE_DOCKERFILE} and apps/${app}/Dockerfile)`);
}

class ContainerService implements ServiceHandle {
  private started?: StartedTestContainer;
  url = '';

  constructor(
    readonly name: string,
    private readonly image: GenericContainer,
  ) {}

  async start(): Promise<void> {
    this.started = await this.image.start();
    this.url = `http://${this.started.getHost()}:${this.started.getMappedPort(HTTP_PORT)}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.started) return;
    if (signal === 'SIGKILL') await this.started.stop({ timeout: 0 });
    else await this.started.stop({ timeout: 15_000 });
    this.started = undefined;
  }

  tail(): string {
    return `(container ${this.name}: see \`docker logs\`)`;
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
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await network.stop().catch(() => undefined);
  };
  try {
    const broker = stack.amqpUrl === 'container:bundled' ? 'bundled' : 'rabbitmq';
    let innerAmqp: string;
    if (broker === 'rabbitmq') {
      const rabbit = await new RabbitMQContainer('rabbitmq:3-management').withNetwork(network).withNetworkAliases('rabbitmq').start();
      stops.push(() => rabbit.stop());
      stack.amqpUrl = rabbit.getAmqpUrl();
      innerAmqp = 'amqp://guest:guest@rabbitmq:5672';
    } else {
      const image = (await buildImage('broker')).withNetwork(network).withNetworkAliases('broker').withExposedPorts(5672).withWaitStrategy(Wait.forLogMessage(/listening on amqp:/));
      const started = await image.start();
      stops.push(() => started.stop());
      stack.amqpUrl = `amqp://guest:guest@${started.getHost()}:${started.getMappedPort(5672)}`;
      innerAmqp = 'amqp://guest:guest@broker:5672';
    }

    let innerRedis: string | undefined;
    if (stack.needsRedis) {
      const redis = await new RedisContainer('redis:7-alpine').withNetwork(network).withNetworkAliases('redis').start();
      stops.push(() => redis.stop());
      stack.redisUrl = redis.getConnectionUrl();
      innerRedis = 'redis://redis:6379';
    }

    let innerSmtp: string | undefined;
    if (stack.options.smtp) {
      const mailpit = await new GenericContainer('axllent/mailpit:latest').withNetwork(network).withNetworkAliases('mailpit').withExposedPorts(1025, 8025).withWaitStrategy(Wait.forHttp('/api/v1/messages', 8025)).start();
      stops.push(() => mailpit.stop());
      const handle: ServiceHandle = { name: 'mailpit', url: `http://${mailpit.getHost()}:${mailpit.getMappedPort(8025)}`, start: async () => undefined, stop: async () => undefined, tail: () => '' };
      stack.smtp = handle;
      innerSmtp = 'smtp://mailpit:1025';
    }

    const databaseServices = stack.options.services.filter((s) => s !== 'analytics');
    let pg: StartedPostgreSqlContainer | undefined;
    if (databaseServices.length) {
      pg = await new PostgreSqlContainer('postgres:15-alpine')
        .withNetwork(network)
        .withNetworkAliases('postgres')
        .withCopyFilesToContainer([{ source: path.join(ROOT, 'docker/postgres-init.sql'), target: '/docker-entrypoint-initdb.d/10-databases.sql' }])
        .start();
      stops.push(() => pg!.stop());
    }

    const order: ServiceName[] = ['inventory', 'payments', 'notifications', 'analytics', 'orders'];
    for (const name of order.filter((n) => stack.options.services.includes(n))) {
      const base = await buildImage(name);
      const count = stack.options.instances[name] ?? 1;
      stack.instances[name] = [];
      for (let i = 0; i < count; i++) {
        // a second instance of a service gets a database of its own (as each local process has its own SQLite file)
        const database = i === 0 ? name : `${name}_${i + 1}`;
        if (pg && name !== 'analytics' && i > 0) await pg.exec(['psql', '-U', pg.getUsername(), '-d', pg.getDatabase(), '-c', `CREATE DATABASE ${database}`]);
        const env: Record<string, string> = {
          ADMIN_TOKEN,
          ...(Object.fromEntries(Object.entries({ ...stack.extraEnv, ...stack.options.serviceEnv[name] }).filter(([, v]) => v !== undefined)) as Record<string, string>),
          PORT: String(HTTP_PORT),
          WARREN_NAMESPACE: stack.namespace,
          AMQP_URL: innerAmqp,
          NO_COLOR: '1',
          ...(innerRedis ? { REDIS_URL: innerRedis } : {}),
          ...(innerSmtp ? { SMTP_URL: innerSmtp } : {}),
          ...(pg && name !== 'analytics' ? { DATABASE_URL: `postgres://${pg.getUsername()}:${pg.getPassword()}@postgres:5432/${database}` } : {}),
        };
        const svc = new ContainerService(
          count > 1 ? `${name}-${i + 1}` : name,
          base.withNetwork(network).withEnvironment(env).withExposedPorts(HTTP_PORT).withWaitStrategy(Wait.forHttp('/health', HTTP_PORT).forStatusCode(200)),
        );
        stack.instances[name].push(svc);
      }
      stack.services[name] = stack.instances[name][0];
      await Promise.all(stack.instances[name].map((s) => s.start()));
      for (const s of stack.instances[name]) stops.push(() => s.stop());
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
