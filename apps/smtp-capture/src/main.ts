// The SMTP capture's command line: both servers in the foreground until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { DEFAULTS, SmtpCapture } from './smtp-capture';

const USAGE = `Usage: node dist/apps/smtp-capture/main.js [--smtp-port N] [--http-port N] [--host H] [--max-messages N] [--max-message-size BYTES]

  --smtp-port N          SMTP port (default SMTP_PORT or ${DEFAULTS.smtpPort}; 0 picks a free port)
  --http-port N          HTTP port for the Mailpit-compatible API (default SMTP_HTTP_PORT or ${DEFAULTS.httpPort}; 0 picks a free port)
  --host H               interface to listen on (default ${DEFAULTS.host})
  --max-messages N       messages kept in memory, oldest dropped first (default ${DEFAULTS.maxMessages})
  --max-message-size B   largest message accepted, in bytes (default ${DEFAULTS.maxMessageSize})`;

function usageError(message: string): never {
  console.error(`smtp-capture: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function startupError(message: string): never {
  console.error(`smtp-capture: ${message}`);
  process.exit(1);
}

function integerFlag(value: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) usageError(`--${name} must be a non-negative integer, got '${value}'`);
  const n = Number(value);
  if (n > max) usageError(`--${name} must be at most ${max}, got ${n}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'smtp-port': { type: 'string' },
        'http-port': { type: 'string' },
        host: { type: 'string' },
        'max-messages': { type: 'string' },
        'max-message-size': { type: 'string' },
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
  const smtpPort = integerFlag(values['smtp-port'] ?? process.env.SMTP_PORT, 'smtp-port', DEFAULTS.smtpPort, 65535);
  const httpPort = integerFlag(
    values['http-port'] ?? process.env.SMTP_HTTP_PORT,
    'http-port',
    DEFAULTS.httpPort,
    65535,
  );
  const maxMessages = integerFlag(values['max-messages'], 'max-messages', DEFAULTS.maxMessages);
  if (maxMessages < 1) usageError('--max-messages must be at least 1');
  const capture = new SmtpCapture({
    host: values.host ?? DEFAULTS.host,
    smtpPort,
    httpPort,
    maxMessages,
    maxMessageSize: integerFlag(values['max-message-size'], 'max-message-size', DEFAULTS.maxMessageSize),
  });
  capture.on('smtpError', (error: Error) => console.error(`smtp-capture: SMTP error: ${error.message}`));
  try {
    await capture.listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE') {
      const which =
        e.port === httpPort
          ? `HTTP port ${httpPort} (set --http-port or SMTP_HTTP_PORT)`
          : `SMTP port ${smtpPort} (set --smtp-port or SMTP_PORT)`;
      startupError(`${which} is in use`);
    }
    startupError(`cannot listen on ${capture.host}: ${e.code ?? ''} ${e.message}`.trim());
  }
  console.log(`smtp listening on ${capture.smtpUrl}`);
  console.log(`http listening on ${capture.httpUrl}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await capture.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

void main();
