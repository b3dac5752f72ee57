// End-to-end suites: the services run as real processes (bundled like `npm run build` does) against the
// bundled broker that the global setup starts; they meet only over HTTP and AMQP.
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'e2e',
  rootDir: __dirname,
  globalSetup: '<rootDir>/support/global-setup.mjs',
  globalTeardown: '<rootDir>/support/global-teardown.mjs',
  testTimeout: 120_000,
};
