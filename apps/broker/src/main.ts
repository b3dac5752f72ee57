import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DefinitionsError, parseDefinitions, RabbitDefinitions } from './access/definitions-file';
import { totalmem } from 'node:os';
import { Broker, BrokerOptions, DEFAULTS, TlsConfigError, TlsOptions } from './broker';
import { DEFAULT_LIMITS } from './resource-monitor';

const USAGE = `Usage: npm run broker -- [--port N] [--host H] [--data-dir D] [--management-port N] [--max-message-size BYTES]

  --port N              AMQP port (default ${DEFAULTS.port}; 0 picks a free port)
  --host H              interface to listen on (default: all, IPv4 and IPv6)
  --data-dir D          where durable data goes (default .data/broker)
  --prometheus-port N   Prometheus metrics (GET /metrics, /metrics/per-object) with rabbitmq_prometheus's
                        names: off unless given; 15692 is RabbitMQ's port, 0 picks a free one
  --management-port N   the management HTTP API (RabbitMQ's, basic auth with the broker's users): off unless
                        given; 15672 is RabbitMQ's port, 0 picks a free one
  --max-message-size B  largest accepted message body in bytes (default ${DEFAULTS.maxMessageSize})
  --memory-high-watermark M   block publishers above this resident memory: a fraction of RAM (default 0.4)
                              or a number of bytes
  --disk-free-limit B   block publishers when the data directory's disk has less free space (default 50 MB)
  --handshake-timeout MS      drop a connection that has not reached connection.open after MS ms
                              (default ${DEFAULTS.handshakeTimeout}, as RabbitMQ's handshake_timeout)
  --max-handshakes N          connections allowed in their handshake at once; more are refused on accept
                              (default ${DEFAULTS.maxHandshakes})
  --max-outgoing-buffer B     bytes waiting to be written to one connection past which it is not read until
                              they drain (default ${DEFAULTS.maxOutgoingBuffer})
  --loopback-users LIST       users who may only connect from this machine: comma-separated names, or none
                              (default guest, as RabbitMQ's loopback_users)
  --definitions FILE          RabbitMQ definitions JSON (rabbitmqctl export_definitions) applied at start:
                              users, vhosts, permissions, exchanges, queues, bindings
  --tls-cert FILE --tls-key FILE   PEM certificate and key: opens an amqps listener
  --tls-port N                amqps port (default ${DEFAULTS.tlsPort} when a certificate is given; 0 picks one)
  --tls-ca FILE               CA certificates (PEM) that client certificates must chain to
  --tls-verify-peer           ask clients for a certificate; refuse one that does not verify
  --tls-fail-if-no-peer-cert  with --tls-verify-peer, refuse clients without a certificate
  --management-tls            serve the management API over HTTPS with --tls-cert and --tls-key

Every flag can also be set by environment: BROKER_PORT, BROKER_HOST, BROKER_DATA_DIR, BROKER_MAX_MESSAGE_SIZE,
BROKER_HANDSHAKE_TIMEOUT, … (the flag's name in upper case with underscores); a flag wins over its variable.`;

/** Bad arguments: the problem and the usage, exit code 2. */
function usageError(message: string): never {
  console.error(`broker: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** Anything else that stops the broker from starting: one line, exit code 1. */
function startupError(message: string): never {
  console.error(`broker: ${message}`);
  process.exit(1);
}

function integerFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) usageError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

/** A fraction of total memory ("0.4") or a number of bytes. */
function memoryFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMITS.memoryHighWatermark;
  if (/^0?\.\d+$|^1(\.0*)?$/.test(value)) return Math.floor(totalmem() * Number(value));
  return integerFlag(value, 'memory-high-watermark', DEFAULT_LIMITS.memoryHighWatermark);
}

/** The amqps listener from --tls-* (certificate and key both, or neither); files are read here, once. */
function tlsOptions(
  option: (name: 'tls-cert' | 'tls-key' | 'tls-port' | 'tls-ca') => string | undefined,
  enabled: (name: 'tls-verify-peer' | 'tls-fail-if-no-peer-cert') => boolean,
): TlsOptions | undefined {
  const certFile = option('tls-cert');
  const keyFile = option('tls-key');
  if (certFile === undefined && keyFile === undefined) {
    if (option('tls-port') !== undefined || option('tls-ca') !== undefined)
      usageError('--tls-port and --tls-ca need --tls-cert and --tls-key');
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) usageError('--tls-cert and --tls-key go together');
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      startupError(
        `cannot read the TLS ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  };
  const caFile = option('tls-ca');
  const port = integerFlag(option('tls-port'), 'tls-port', DEFAULTS.tlsPort);
  if (port > 65535) usageError(`--tls-port must be at most 65535, got ${port}`);
  return {
    port,
    cert: read(certFile, 'certificate'),
    key: read(keyFile, 'key'),
    ca: caFile === undefined ? undefined : read(caFile, 'CA file'),
    verifyPeer: enabled('tls-verify-peer'),
    failIfNoPeerCert: enabled('tls-fail-if-no-peer-cert'),
  };
}

/** An HTTP listener that is off unless its port is given. */
function listenerPort(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const port = integerFlag(value, name, 0);
  if (port > 65535) usageError(`--${name} must be at most 65535, got ${port}`);
  return port;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        'management-port': { type: 'string' },
        'prometheus-port': { type: 'string' },
        'max-message-size': { type: 'string' },
        'memory-high-watermark': { type: 'string' },
        'disk-free-limit': { type: 'string' },
        'handshake-timeout': { type: 'string' },
        'max-handshakes': { type: 'string' },
        'max-outgoing-buffer': { type: 'string' },
        'loopback-users': { type: 'string' },
        definitions: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-port': { type: 'string' },
        'tls-ca': { type: 'string' },
        'tls-verify-peer': { type: 'boolean' },
        'tls-fail-if-no-peer-cert': { type: 'boolean' },
        'management-tls': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // a flag, else its BROKER_* variable
  const variable = (name: string) => process.env[`BROKER_${name.toUpperCase().replace(/-/g, '_')}`];
  const option = (name: keyof typeof values & string): string | undefined =>
    (values[name] as string | undefined) ?? variable(name);
  const enabled = (name: keyof typeof values & string): boolean =>
    values[name] === true || /^(1|true|yes)$/i.test(variable(name) ?? '');
  const port = integerFlag(option('port'), 'port', DEFAULTS.port);
  if (port > 65535) usageError(`--port must be at most 65535, got ${port}`);
  const handshakeTimeout = integerFlag(option('handshake-timeout'), 'handshake-timeout', DEFAULTS.handshakeTimeout);
  if (handshakeTimeout === 0) usageError('--handshake-timeout must be at least 1 (ms)');
  const maxHandshakes = integerFlag(option('max-handshakes'), 'max-handshakes', DEFAULTS.maxHandshakes);
  if (maxHandshakes === 0) usageError('--max-handshakes must be at least 1');
  const host = option('host');
  const loopback = option('loopback-users') ?? 'guest';
  const loopbackUsers =
    loopback === 'none'
      ? []
      : loopback
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
  let definitions: RabbitDefinitions | undefined;
  const definitionsFile = option('definitions');
  if (definitionsFile !== undefined) {
    try {
      definitions = parseDefinitions(JSON.parse(readFileSync(definitionsFile, 'utf8')));
    } catch (error) {
      startupError(`cannot load definitions from ${definitionsFile}: ${(error as Error).message}`);
    }
  }
  const tls = tlsOptions(option, enabled);
  const brokerOptions: BrokerOptions = {
    loopbackUsers,
    tls,
    definitions,
    port,
    host,
    dataDir: option('data-dir') ?? '.data/broker',
    maxMessageSize: integerFlag(option('max-message-size'), 'max-message-size', DEFAULTS.maxMessageSize),
    handshakeTimeout,
    maxHandshakes,
    maxOutgoingBuffer: integerFlag(option('max-outgoing-buffer'), 'max-outgoing-buffer', DEFAULTS.maxOutgoingBuffer),
    managementPort: listenerPort(option('management-port'), 'management-port'),
    managementTls: enabled('management-tls'),
    prometheusPort: listenerPort(option('prometheus-port'), 'prometheus-port'),
    limits: {
      memoryHighWatermark: memoryFlag(option('memory-high-watermark')),
      diskFreeLimit: integerFlag(option('disk-free-limit'), 'disk-free-limit', DEFAULT_LIMITS.diskFreeLimit),
    },
  };
  let broker: Broker;
  try {
    broker = new Broker(brokerOptions);
  } catch (error) {
    if (error instanceof DefinitionsError) startupError(`cannot load the saved users and vhosts: ${error.message}`);
    throw error;
  }
  let bound: number;
  try {
    bound = await broker.listen();
  } catch (error) {
    if (error instanceof DefinitionsError)
      startupError(`cannot apply definitions from ${definitionsFile}: ${error.message}`);
    if (error instanceof TlsConfigError) startupError(error.message);
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') startupError(`port ${port} is in use (set --port or BROKER_PORT)`);
    startupError(`cannot listen on ${host ?? 'all interfaces'}:${port}: ${e.code ?? ''} ${e.message}`.trim());
  }
  console.log(`listening on amqp://${host ?? 'localhost'}:${bound}`);
  if (broker.tlsPort !== undefined) console.log(`listening on amqps://${host ?? 'localhost'}:${broker.tlsPort}`);
  const scheme = enabled('management-tls') ? 'https' : 'http';
  if (broker.managementPort !== undefined)
    console.log(`listening on ${scheme}://${host ?? 'localhost'}:${broker.managementPort} (management API)`);
  if (broker.prometheusPort !== undefined)
    console.log(`listening on http://${host ?? 'localhost'}:${broker.prometheusPort}/metrics (Prometheus)`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.log(`${signal}: closing connections`);
    await broker.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
