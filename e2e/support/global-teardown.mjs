// e2e's jest globalTeardown: the shared one (stops the test broker), and in the containers runtime the removal
// of any container this run left (a suite that crashed before its afterAll), with the networks they used.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import brokerTeardown from '../../tools/testing/broker-global-teardown.mjs';

const docker = async (...args) => (await promisify(execFile)('docker', args)).stdout.trim();

export default async function globalTeardown() {
  await brokerTeardown();
  const run = process.env.WARREN_E2E_RUN;
  if (process.env.E2E_RUNTIME !== 'containers' || !run) return;
  const ids = (await docker('ps', '-aq', '--filter', `label=org.warren.e2e-run=${run}`)).split('\n').filter(Boolean);
  if (!ids.length) return;
  const networks = new Set();
  for (const id of ids) for (const n of (await docker('inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', id)).split(' ').filter(Boolean)) networks.add(n);
  await docker('rm', '-f', '-v', ...ids);
  for (const n of networks) if (!['bridge', 'host', 'none'].includes(n)) await docker('network', 'rm', n).catch(() => undefined);
  process.stderr.write(`e2e: removed ${ids.length} containers a suite left behind (run ${run})\n`);
}
