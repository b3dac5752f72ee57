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
  const left = async () =>
    (await docker('ps', '-aq', '--filter', `label=org.warren.e2e-run=${run}`)).split('\n').filter(Boolean);
  let ids = await left();
  if (!ids.length) return;
  process.stderr.write(
    `e2e: ${ids.length} containers of run ${run} were left behind:\n${await docker('ps', '-a', '--filter', `label=org.warren.e2e-run=${run}`, '--format', '{{.ID}} {{.Image}} {{.Status}}')}\n`,
  );
  const networks = new Set();
  for (const id of ids) {
    const names = await docker(
      'inspect',
      '--format',
      '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}',
      id,
    ).catch(() => '');
    for (const n of names.split(' ').filter(Boolean)) networks.add(n);
  }
  // a container the engine is still stopping or removing can refuse `rm` for a moment: try again, then say so
  for (let attempt = 1; ids.length; attempt++) {
    await docker('rm', '-f', '-v', ...ids).catch((err) =>
      process.stderr.write(`e2e: docker rm: ${err.message.split('\n')[0]}\n`),
    );
    ids = await left();
    if (ids.length && attempt === 5) throw new Error(`e2e: could not remove containers ${ids.join(' ')} (run ${run})`);
    if (ids.length) await new Promise((r) => setTimeout(r, 1000 * attempt));
  }
  for (const n of networks)
    if (!['bridge', 'host', 'none'].includes(n)) await docker('network', 'rm', n).catch(() => undefined);
  process.stderr.write(`e2e: removed the containers a suite left behind (run ${run})\n`);
}
