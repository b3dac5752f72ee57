// jest globalSetup for every project whose tests need an AMQP broker: bundles the broker once per jest run
// (esbuild, well under a second) and starts one on loopback for the suites that do not need a broker of their
// own. Tests read its URL from WARREN_TEST_BROKER_URL; WARREN_TEST_BROKER_ENTRY lets them spawn more.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/bundle.mjs';

const { spawnBroker } = createRequire(import.meta.url)('./spawn-broker.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalSetup() {
  const entry = path.join(root, 'tmp/test-broker/broker.js');
  await bundle(path.join(root, 'apps/broker/src/main.ts'), entry);
  process.env.WARREN_TEST_BROKER_ENTRY = entry;
  const broker = await spawnBroker({ entry });
  process.env.WARREN_TEST_BROKER_URL = broker.url;
  globalThis.__warrenBroker = broker;
}
