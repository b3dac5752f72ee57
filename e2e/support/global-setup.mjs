// e2e's jest globalSetup: the shared one (bundles and starts the test broker), and with E2E_RUNTIME=containers
// first a check that a container engine answers, so a run without one stops at once with one clear message.
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import brokerSetup from '../../tools/testing/broker-global-setup.mjs';
import { appImage, buildAppImages } from '../../docker/app-images.mjs';

/** GET /_ping on DOCKER_HOST (unix:// or tcp://) or the usual sockets; resolves true when the engine answers. */
function pingEngine() {
  const host = process.env.DOCKER_HOST;
  const candidates = host
    ? [
        host.startsWith('unix://')
          ? { socketPath: host.slice('unix://'.length) }
          : {
              host: new URL(host.replace(/^tcp:/, 'http:')).hostname,
              port: Number(new URL(host.replace(/^tcp:/, 'http:')).port || 2375),
            },
      ]
    : [
        '/var/run/docker.sock',
        `${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/docker.sock`,
        `${process.env.XDG_RUNTIME_DIR ?? '/run/user/0'}/podman/podman.sock`,
      ]
        .filter((p) => existsSync(p))
        .map((socketPath) => ({ socketPath }));
  const one = (target) =>
    new Promise((resolve) => {
      const req = request({ ...target, path: '/_ping', method: 'GET', timeout: 3000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  return candidates.reduce(async (found, target) => (await found) || one(target), Promise.resolve(false));
}

export default async function globalSetup() {
  if (process.env.E2E_RUNTIME === 'containers' && !(await pingEngine())) {
    throw new Error(
      `E2E_RUNTIME=containers needs a container engine (Docker or Podman) and none answered${process.env.DOCKER_HOST ? ` at DOCKER_HOST=${process.env.DOCKER_HOST}` : ' on /var/run/docker.sock'}. Start one (or set DOCKER_HOST), or run the local runtime: unset E2E_RUNTIME.`,
    );
  }
  if (process.env.E2E_RUNTIME === 'containers') {
    // the images compose builds, built (or found in the layer cache) once for the whole run; every suite's
    // containers carry this run's label, so the teardown can remove what a crashed suite left
    process.env.WARREN_E2E_RUN = `e2e-${randomBytes(4).toString('hex')}`;
    const started = Date.now();
    await buildAppImages(undefined, ([app, seconds]) =>
      process.stderr.write(`e2e: ${appImage(app)} ready in ${seconds.toFixed(0)} s\n`),
    );
    process.stderr.write(`e2e: images ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  await brokerSetup();
}
