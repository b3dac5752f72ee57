// Bundles the broker once per jest run (esbuild, well under a second) and starts one for the suites that
// do not need a broker of their own. Its URL reaches the tests through WARREN_TEST_BROKER_URL.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../../../tools/scripts/bundle.mjs';

const { spawnBroker } = createRequire(import.meta.url)('./support/spawn-broker.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export default async function globalSetup() {
  const entry = path.join(root, 'tmp/messaging-test/broker.js');
  await bundle(path.join(root, 'apps/broker/src/main.ts'), entry);
  process.env.WARREN_TEST_BROKER_ENTRY = entry;
  const broker = await spawnBroker({ entry });
  process.env.WARREN_TEST_BROKER_URL = broker.url;
  globalThis.__warrenBroker = broker;
}
