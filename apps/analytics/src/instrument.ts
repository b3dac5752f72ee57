// OpenTelemetry for the analytics process (docs/observability.md). main.ts imports this first: the trace
// instrumentations hook require(), so they must be in place before Nest, Express, pg and ioredis are loaded.
import { startTelemetry } from '@warren/service-kit/telemetry';

startTelemetry('analytics', { exitOnError: true });
